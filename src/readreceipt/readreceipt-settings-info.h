#ifndef READRECEIPT_SETTINGS_INFO_H
#define READRECEIPT_SETTINGS_INFO_H

/* Dovecot 2.4 only: the readreceipt_* settings declared to Dovecot's
   settings, so that they are set at the top level of the configuration
   (or in a filter), overridden per user by userdb fields of the same
   name, and read with settings_get(). Every setting is a string: the
   module's own parser (readreceipt-settings.c) validates the values, so
   that a bad one disables receipts for the user instead of stopping
   doveconf or failing the user's login. */

#include "settings-parser.h"

/* The values as configured, one field per name of
   readreceipt_setting_names[]. */
struct readreceipt_raw_settings {
	pool_t pool;

	const char *readreceipt_mode;
	const char *readreceipt_domains;
	const char *readreceipt_allow;
	const char *readreceipt_prompt;
	const char *readreceipt_user_email;
	const char *readreceipt_unprompted;
	const char *readreceipt_prompt_clients;
	const char *readreceipt_bulk_limit;
	const char *readreceipt_exclude;
	const char *readreceipt_max_per_hour;
	const char *readreceipt_hide_forbidden;
	const char *readreceipt_request;
	const char *readreceipt_submission_host;
	const char *readreceipt_submission_timeout;
	const char *readreceipt_reporting_ua;
	const char *readreceipt_include_headers;
	const char *readreceipt_pending_expire;
	const char *readreceipt_policy_refresh;
};

/* The default of readreceipt_domains: the domain of
   readreceipt_user_email (see readreceipt-settings-info.c). Not a domain
   name, so no valid list means the same. */
#define READRECEIPT_DOMAINS_DEFAULT_MARKER "$user_email_domain"

extern const struct setting_parser_info readreceipt_setting_parser_info;

/* The value of the named setting in set as the module's parser takes it:
   NULL when it is not set in 2.3's sense (readreceipt_domains at its
   default) and for a name that is not declared. */
const char *
readreceipt_raw_setting(const struct readreceipt_raw_settings *set,
			const char *name);
/* TRUE if the named setting holds its declared default. Compare values
   read without %variable expansion. */
bool readreceipt_raw_setting_is_default(
	const struct readreceipt_raw_settings *set, const char *name);

#endif
