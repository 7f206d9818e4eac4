package actions

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// maxAnswer bounds what is read of an endpoint's answer: only its status
// matters, the rest is drained so the connection can be reused.
const maxAnswer = 64 << 10

// post sends body to s.URL, trying again after a timeout or a 5xx answer.
// Errors name the endpoint by scheme and host only.
func (n *Notification) post(ctx context.Context, s notifySettings, body []byte) error {
	client, err := n.client(s)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	wait := n.backoff
	for try := 1; ; try++ {
		retry, err := n.try(ctx, client, s, body)
		if err == nil {
			n.log.Debug("notification sent", "action", n.name, "endpoint", s.endpoint(), "attempt", try)
			return nil
		}
		err = fmt.Errorf("%s: POST %s: %w", n.name, s.endpoint(), err)
		if !retry || try >= n.attempts || ctx.Err() != nil {
			return err
		}
		n.log.Warn("notification attempt failed, trying again", "action", n.name, "attempt", try, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (then %w)", err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
}

// try is one attempt, with its own time limit. retry is true for a
// timeout of the attempt or a 5xx answer.
func (n *Notification) try(ctx context.Context, client *http.Client, s notifySettings, body []byte) (retry bool, err error) {
	actx, cancel := context.WithTimeout(ctx, n.attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, s.URL.String(), bytes.NewReader(body))
	if err != nil {
		return false, errors.New("cannot build the request") // its error would quote the URL
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "threatlockdown/"+n.name)
	resp, err := client.Do(req)
	if err != nil {
		err = unquoteURL(err)
		timedOut := ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err))
		if timedOut {
			err = fmt.Errorf("no answer within %v: %w", n.attemptTimeout, err)
		}
		return timedOut, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode >= 500:
		return true, fmt.Errorf("answered %s", resp.Status)
	}
	return false, fmt.Errorf("answered %s", resp.Status)
}

// client is an HTTP client for s: it trusts only s.CA's certificates when
// set, and follows no redirect (a redirect would carry the alert to a host
// nobody configured; it fails as a non-2xx answer).
func (n *Notification) client(s notifySettings) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.CA != "" {
		pem, err := os.ReadFile(s.CA)
		if err != nil {
			return nil, fmt.Errorf("%s: ca: %w", n.name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: ca: no PEM certificate in %s", n.name, s.CA)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}

// unquoteURL drops the *url.Error layer, whose text quotes the whole URL,
// secret path and query included.
func unquoteURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
