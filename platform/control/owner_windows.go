package control

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// ownDir checks that dir is a directory, not a link to one, owned by
// SYSTEM, Administrators or this process's user: one that someone else
// made could be theirs to watch, and its owner may always change its ACL
// back.
func ownDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() { // a link or a junction is not, from Lstat
		return errors.New("not a directory")
	}
	sd, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("its owner: %w", err)
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return fmt.Errorf("its owner: %w", err)
	}
	trusted, err := trustedSIDs()
	if err != nil {
		return err
	}
	for _, sid := range trusted {
		if owner.Equals(sid) {
			return nil
		}
	}
	return fmt.Errorf("owned by %s, not by SYSTEM, Administrators or this user", owner)
}

// restrictDir replaces dir's ACL with ownerOnly's.
func restrictDir(dir string) error {
	_, dacl, err := ownerOnly()
	if err != nil {
		return err
	}
	err = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("set its access list: %w", err)
	}
	return nil
}

// ownerOnly is an access list that inherits nothing: full control for
// SYSTEM, Administrators and this process's user, passed on to what is
// made inside (the socket); in SDDL and built.
func ownerOnly() (string, *windows.ACL, error) {
	trusted, err := trustedSIDs()
	if err != nil {
		return "", nil, err
	}
	sddl := "D:P"
	for _, sid := range trusted {
		sddl += fmt.Sprintf("(A;OICI;FA;;;%s)", sid)
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return "", nil, fmt.Errorf("access list %s: %w", sddl, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return "", nil, fmt.Errorf("access list %s: %w", sddl, err)
	}
	return sddl, dacl, nil
}

// trustedSIDs are SYSTEM, Administrators and this process's user.
func trustedSIDs() ([]*windows.SID, error) {
	system, err := windows.CreateWellKnownSid(windows.WinLocalSystemSid)
	if err != nil {
		return nil, fmt.Errorf("SYSTEM's SID: %w", err)
	}
	admins, err := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid)
	if err != nil {
		return nil, fmt.Errorf("Administrators' SID: %w", err)
	}
	user, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("this process's user: %w", err)
	}
	sids := []*windows.SID{system, admins}
	if !user.User.Sid.Equals(system) { // a service runs as SYSTEM
		sids = append(sids, user.User.Sid)
	}
	return sids, nil
}
