#ifndef READRECEIPT_SETTINGS_TABLE_H
#define READRECEIPT_SETTINGS_TABLE_H

/* Every readreceipt_* setting, written once, in the order the
   documentation lists them. Each user of the table expands it with a macro
   of its own:
   - readreceipt-settings.c: readreceipt_setting_names[], the parser and
     validator, and the values "doveadm readreceipt policy" shows;
   - readreceipt-settings-info.c: the settings as Dovecot 2.4 declares them
     (fields, defines, defaults);
   - tests/unit/readreceipt-settings-doc.c: the README's table of settings,
     which tests/unit/test-settings-doc.sh compares with the README (and
     the order with the configuration templates in conf.d/).

   READRECEIPT_SETTING(name, field, type, values, min, max, default,
                       doc_values, doc_default, doc_meaning):
   name:    the setting is readreceipt_<name>
   field:   its member of struct readreceipt_settings
   type:    how its value is read and shown (READRECEIPT_SETTING_TYPE_*)
   values:  ENUM: the values, indexed by the member's enum; else NULL
   min, max: NUMBER, SECONDS: the range; else 0
   default: the value when it is not set, as a configuration writes it;
            NULL when it is derived from something else (the username,
            readreceipt_user_email, Dovecot's own settings, the host name)
   doc_*:   the README's columns; doc_default NULL shows `default` */

#define READRECEIPT_SETTINGS_TABLE(READRECEIPT_SETTING) \
	READRECEIPT_SETTING(mode, mode, ENUM, readreceipt_mode_names, 0, 0, \
		"disabled", \
		"`disabled`, `internal`, `any`", \
		NULL, \
		"`disabled`: no receipts. `internal`: receipts only to the " \
		"organisation's domains and to `readreceipt_allow`. `any`: " \
		"to any address, always with the user's consent") \
	READRECEIPT_SETTING(domains, domains, DOMAINS, NULL, 0, 0, \
		NULL, \
		"domains; `.example.com` also matches subdomains", \
		"the domain of `readreceipt_user_email`", \
		"the organisation's own domains") \
	READRECEIPT_SETTING(allow, allow, ALLOW, NULL, 0, 0, \
		"", \
		"at most 100 entries of at most 256 characters: " \
		"`user@domain` or `@domain`", \
		"empty", \
		"external addresses that may receive receipts in mode " \
		"`internal`") \
	READRECEIPT_SETTING(prompt, prompt, BOOL, NULL, 0, 0, \
		"yes", \
		"`yes`/`no`", \
		NULL, \
		"mode `internal`: ask the user before each receipt (`no`: " \
		"send automatically). Mode `any` always asks") \
	READRECEIPT_SETTING(user_email, user_email, USER_EMAIL, NULL, 0, 0, \
		NULL, \
		"one address (`%` variables expanded)", \
		"the username, if it is an address", \
		"the user's own address: receipts only for mail sent to " \
		"it, and it is the receipt's From and Final-Recipient") \
	READRECEIPT_SETTING(unprompted, unprompted, ENUM, \
		readreceipt_unprompted_names, 0, 0, \
		"defer", \
		"`defer`, `send`, `ignore`", \
		NULL, \
		"consent is needed but the session cannot ask (POP3, plain " \
		"IMAP clients). `defer`: queue it for a client that can " \
		"ask (see [the pending queue](#the-pending-queue)). " \
		"`send`: send anyway, except where RFC 8098 §2.1 demands " \
		"consent (then it is queued). `ignore`: nothing") \
	READRECEIPT_SETTING(prompt_clients, prompt_clients, GLOBS, NULL, 0, 0, \
		"Roundcube* Thunderbird*", \
		"case-insensitive globs on the IMAP ID `name`", \
		NULL, \
		"clients that show their own receipt prompt, as clients " \
		"that `ENABLE XREADRECEIPT` do: their sessions never send " \
		"a receipt automatically (needs `imap_readreceipt`). " \
		"Empty: only `ENABLE` counts") \
	READRECEIPT_SETTING(bulk_limit, bulk_limit, NUMBER, NULL, 1, UINT_MAX, \
		"1", \
		"number ≥ 1", \
		NULL, \
		"one IMAP command that newly sets `\\Seen` on more " \
		"messages than this is \"mark as read\", not \"open\": no " \
		"receipts") \
	READRECEIPT_SETTING(exclude, exclude, EXCLUDE, NULL, 0, 0, \
		"\\Sent \\Drafts \\Junk \\Trash", \
		"mailbox globs and special-use flags", \
		NULL, \
		"mailboxes where receipts are never sent") \
	READRECEIPT_SETTING(max_per_hour, max_per_hour, NUMBER, \
		NULL, 0, UINT_MAX, \
		"100", \
		"number, `0` = no limit", \
		NULL, \
		"receipts sent per user per hour; beyond it they stay owed " \
		"(reason `rate_limited`) and leave with a later try") \
	READRECEIPT_SETTING(hide_forbidden, hide_forbidden, BOOL, NULL, 0, 0, \
		"yes", \
		"`yes`/`no`", \
		NULL, \
		"at LMTP/LDA delivery, save a message whose receipt the " \
		"policy forbids with `$MDNSent`, so that clients do not " \
		"offer one (needs the module in `protocol lmtp`/`lda`)") \
	READRECEIPT_SETTING(request, request, ENUM, \
		readreceipt_request_names, 0, 0, \
		"strip", \
		"`strip`, `reject`, `allow`", \
		NULL, \
		"mode `disabled` (or invalid settings): what the " \
		"submission module does with `Disposition-Notification-To` " \
		"in outgoing mail — remove that header, refuse the message " \
		"(`550 5.7.1`), or let it go") \
	READRECEIPT_SETTING(submission_host, submission_host, HOST, \
		NULL, 0, 0, \
		NULL, \
		"`host[:port]`", \
		"Dovecot's `submission_host`", \
		"where receipts are sent (SMTP, null sender `MAIL " \
		"FROM:<>`), with Dovecot's `submission_ssl` (`no`, " \
		"`smtps`, `starttls`) and `ssl_client_*` settings. When " \
		"both are empty: `sendmail_path`") \
	READRECEIPT_SETTING(submission_timeout, submission_timeout_secs, \
		SECONDS, NULL, 1, 300, \
		"5", \
		"seconds, 1–300", \
		NULL, \
		"the whole SMTP transaction must finish within it, else it " \
		"is a temporary failure and the receipt stays owed. No " \
		"IMAP or POP3 command ever waits for it") \
	READRECEIPT_SETTING(reporting_ua, reporting_ua, REPORTING_UA, \
		NULL, 0, 0, \
		NULL, \
		"text, or empty to omit the field", \
		"`<hostname>; dovecot-readreceipt/<version>` (e.g. " \
		"`mail.example.com; dovecot-readreceipt/" READRECEIPT_VERSION \
		"`)", \
		"the receipt's Reporting-UA field") \
	READRECEIPT_SETTING(include_headers, include_headers, BOOL, \
		NULL, 0, 0, \
		"no", \
		"`yes`/`no`", \
		NULL, \
		"attach the original's header as a third part " \
		"(`text/rfc822-headers`)") \
	READRECEIPT_SETTING(pending_expire, pending_expire_secs, TIME, \
		NULL, 0, 0, \
		"30d", \
		"time (`30d`, `12h`, `90 secs`), `0` = never", \
		NULL, \
		"a prompt nobody answered is dropped by `doveadm " \
		"readreceipt flush`: the entry goes, the message gets " \
		"`$MDNSent`, event `ignored`/`expired`") \
	READRECEIPT_SETTING(policy_refresh, policy_refresh_secs, TIME, \
		NULL, 0, 0, \
		"5m", \
		"time (`5m`, `30s`), `0` = at every decision", \
		NULL, \
		"no decision is taken on settings older than this: a " \
		"session that is open when the policy changes follows the " \
		"change within this time (see [Changing the " \
		"policy](#changing-the-policy))")

#endif
