#!/usr/bin/python3
"""Adds current bans to a fail2ban database, as fail2ban's own
Fail2BanDb.addBan writes them (a row in bans, one in bips), in one
transaction: the restart row then measures fail2ban restoring N bans,
without first waiting for it to make N bans one nft process at a time.

usage: f2bdb.py DB JAIL BANTIME ADDRESS_FILE
prints {"already": bans of those addresses already current, "inserted": N}
"""
import json
import sqlite3
import sys
import time


def main():
    db, jail, bantime, addr_file = sys.argv[1:5]
    with open(addr_file) as f:
        addrs = [line.strip() for line in f if line.strip()]
    now = int(time.time())
    con = sqlite3.connect(db)
    have = {row[0] for row in con.execute(
        "SELECT ip FROM bips WHERE jail=? AND timeofban + bantime > ?", (jail, now))}
    data = json.dumps({"matches": [], "failures": 1})
    rows = [(ip, jail, now, int(bantime), 1, data) for ip in addrs if ip not in have]
    with con:
        con.executemany("INSERT INTO bans(ip, jail, timeofban, bantime, bancount, data) "
                        "VALUES(?, ?, ?, ?, ?, ?)", rows)
        con.executemany("INSERT OR REPLACE INTO bips(ip, jail, timeofban, bantime, bancount, data) "
                        "VALUES(?, ?, ?, ?, ?, ?)", rows)
    con.close()
    print(json.dumps({"already": len(have.intersection(addrs)), "inserted": len(rows)}))


if __name__ == "__main__":
    main()
