#ifndef READRECEIPT_COMPAT_H
#define READRECEIPT_COMPAT_H

/* Everything that differs between Dovecot 2.3 and 2.4 is reached through
   this header, so a port touches one place. DOVECOT_PREREQ() comes from
   Dovecot's own config.h (lib.h). The functions are in
   readreceipt-compat-lib.c (strings and JSON: lib only, linked with the
   pure files) and readreceipt-compat.c (users, settings, storage: the
   storage module). This header needs nothing but lib.h, so that the pure
   files can include it. */

struct istream;
struct mail_user;
struct mail_storage_settings;
struct smtp_submit_settings;

/*
 * Strings
 */

#if !DOVECOT_PREREQ(2, 4, 0)
/* 2.4's name for 2.3's two-argument str_begins() (2.4's str_begins()
   takes a third argument, the rest of the string). */
#  define str_begins_with(haystack, needle) str_begins(haystack, needle)
#endif

/* A time interval as Dovecot's own settings take it ("30d", "12h",
   "90 secs", "0"). Returns 0, or -1 with *error_r. */
int readreceipt_compat_parse_interval(const char *str, unsigned int *secs_r,
				      const char **error_r);

/* Append str to dest as the inside of a JSON string: quotes, backslashes
   and control characters escaped, invalid UTF-8 replaced. */
void readreceipt_compat_json_append_escaped(string_t *dest, const char *str);

/* The parameters of a Content-Type field, after
   rfc822_parse_content_type() read the type from parser: a
   NULL-terminated array of key, value pairs, a NUL in a value read as
   U+FFFD. 2.3: rfc2231_parse()'s (repeated parameters kept, RFC 2231
   continuations joined). 2.4's rfc2231_parse() keeps only the first of
   repeated parameters and decodes RFC 2231 values, which would hide what
   another reader may take: the parameters are then returned as written,
   every one, nothing joined or decoded. Returns 0, or -1 when some of the
   input was invalid (the parameters that could be read are returned). */
struct rfc822_parser_context;
int readreceipt_compat_content_params(struct rfc822_parser_context *parser,
				      const char *const **params_r);

/*
 * Reading JSON token by token (lib's json-parser on 2.3, lib-json's
 * json-istream on 2.4)
 */

enum readreceipt_json_token {
	READRECEIPT_JSON_OBJECT = 1,
	READRECEIPT_JSON_OBJECT_KEY,
	READRECEIPT_JSON_OBJECT_END,
	READRECEIPT_JSON_ARRAY,
	READRECEIPT_JSON_ARRAY_END,
	/* value: the string, unescaped */
	READRECEIPT_JSON_STRING,
	/* value: the number as written */
	READRECEIPT_JSON_NUMBER,
	READRECEIPT_JSON_TRUE,
	READRECEIPT_JSON_FALSE,
	READRECEIPT_JSON_NULL,
};

struct readreceipt_json_reader;

/* Reads one JSON value (object, array or scalar) from input. */
struct readreceipt_json_reader *
readreceipt_json_reader_init(struct istream *input);
/* TRUE with the next token; each member of an object is its
   READRECEIPT_JSON_OBJECT_KEY (value: the name) and then its value's
   tokens. FALSE at the end of the input and at invalid JSON, which
   readreceipt_json_reader_deinit() then reports. The value stays valid
   until the next call. */
bool readreceipt_json_reader_next(struct readreceipt_json_reader *reader,
				  enum readreceipt_json_token *token_r,
				  const char **value_r);
/* Returns 0, or -1 with *error_r (lib's words) when the input was not
   valid JSON or had more after the value. */
int readreceipt_json_reader_deinit(struct readreceipt_json_reader **reader,
				   const char **error_r);

/*
 * The module's settings: plugin {} + userdb on 2.3, the settings of
 * readreceipt_setting_parser_info (readreceipt-settings-info.c) on 2.4
 */

struct readreceipt_compat_settings;

/* Read the user's readreceipt_* settings, once per user while it is
   created. unexpanded (2.4): %variables are left as written, for showing
   where a value comes from; 2.3 has only the expanded values. *set_r is
   always set, and lives until readreceipt_compat_settings_free() or the
   end of the user. Returns 0, or -1 with *error_r when the settings could
   not be read at all (2.4: an unknown %variable); every setting then reads
   as not set. */
int readreceipt_compat_settings_get(struct mail_user *user, bool unexpanded,
				    struct readreceipt_compat_settings **set_r,
				    const char **error_r);
void readreceipt_compat_settings_free(struct readreceipt_compat_settings **set);
/* The value of the named readreceipt_* setting, or NULL when it is not set
   (the module's default applies). */
const char *
readreceipt_compat_setting(const struct readreceipt_compat_settings *set,
			   const char *name);
/* The same, but NULL also for a value that equals the module's default as
   the 2.4 settings declare it, so that doveadm shows it as the default
   (2.3: as readreceipt_compat_setting()). */
const char *
readreceipt_compat_setting_configured(
	const struct readreceipt_compat_settings *set, const char *name);

/*
 * Core settings
 */

/* Dovecot's submission settings for the user (submission_host,
   submission_ssl, sendmail_path, ...), %variables expanded, allocated
   from pool. Call it while the user is created. NULL when there are none:
   on 2.3 the service reads no submission settings (pop3, doveadm). */
const struct smtp_submit_settings *
readreceipt_compat_smtp_submit_settings(struct mail_user *user, pool_t pool);

/* The user's mail storage settings (lock_method, ...). Returns 0, or -1
   with *error_r. Release them with
   readreceipt_compat_mail_storage_settings_free(). */
int readreceipt_compat_mail_storage_settings_get(
	struct mail_user *user, const struct mail_storage_settings **set_r,
	const char **error_r);
void readreceipt_compat_mail_storage_settings_free(
	const struct mail_storage_settings **set);

/* mail_volatile_dir of list's settings (2.3 list->set.volatile_dir, 2.4
   mail_volatile_path), or NULL when it is not set. */
struct mailbox_list;
const char *readreceipt_compat_list_volatile_dir(struct mailbox_list *list);

/* TRUE when the user has an attribute dict (2.3 mail_attribute_dict, 2.4
   mail_attribute { dict ... }), so that METADATA entries can be kept. */
bool readreceipt_compat_attribute_dict_enabled(struct mail_user *user);

/* mail_debug for the user */
bool readreceipt_compat_user_debug(struct mail_user *user);

/* Look the user up in the userdb again, through the auth connection of the
   mail storage service (the auth-userdb socket). Returns 1 with the userdb
   fields ("key=value") allocated from pool, 0 when the userdb no longer
   knows the user, -1 with *error_r. Blocks for at most the auth client's
   timeout. */
int readreceipt_compat_userdb_lookup(struct mail_user *user, pool_t pool,
				     const char *const **fields_r,
				     const char **error_r);

/* The SSL client settings for an SMTP client of the user: 2.3 fills
   ssl_set from the user's ssl_client_* settings and returns it; 2.4
   returns NULL, and lib-smtp looks them up through the client's event
   (event_parent = the user's event). */
struct ssl_iostream_settings;
const struct ssl_iostream_settings *
readreceipt_compat_ssl_client_settings(struct mail_user *user,
				       struct ssl_iostream_settings *ssl_set);

/*
 * imap
 */

/* The ENABLE callback given to imap_feature_register() (imap module only).
   Dovecot 2.3 has no way to refuse an ENABLE: the callback returns void.
   Newer versions return bool, FALSE = not enabled for this client.
	static READRECEIPT_COMPAT_ENABLE_RET
	callback(struct client *client)
	{
		...
		READRECEIPT_COMPAT_ENABLE_RETURN(accepted);
	} */
#if DOVECOT_PREREQ(2, 4, 0)
#  define READRECEIPT_COMPAT_ENABLE_RET bool
#  define READRECEIPT_COMPAT_ENABLE_RETURN(accepted) return (accepted)
#else
#  define READRECEIPT_COMPAT_ENABLE_RET void
#  define READRECEIPT_COMPAT_ENABLE_RETURN(accepted) (void)(accepted)
#endif

#endif
