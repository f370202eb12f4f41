/* Copyright (c) dovecot-readreceipt authors */

#include "lib.h"
#include "array.h"
#include "net.h"
#include "str.h"
#include "str-sanitize.h"
#include "strnum.h"
#include "readreceipt-address.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"

#include <ctype.h>

/* How much of an offending value an error message quotes. */
#define READRECEIPT_SETTINGS_ERROR_VALUE_MAX 40
/* Reporting-UA is written on one header line of the MDN; this keeps it far
   below the 998 octets a line may have. */
#define READRECEIPT_REPORTING_UA_MAX_LEN 200
#define READRECEIPT_SUBMISSION_TIMEOUT_MAX 300
/* RFC 1035 limits */
#define READRECEIPT_DOMAIN_MAX_LEN 253
#define READRECEIPT_DOMAIN_LABEL_MAX_LEN 63

#define READRECEIPT_LIST_SEPARATORS " ,\t"

const char *const readreceipt_setting_names[] = {
	"readreceipt_mode",
	"readreceipt_domains",
	"readreceipt_allow",
	"readreceipt_prompt",
	"readreceipt_user_email",
	"readreceipt_unprompted",
	"readreceipt_prompt_clients",
	"readreceipt_bulk_limit",
	"readreceipt_exclude",
	"readreceipt_max_per_hour",
	"readreceipt_hide_forbidden",
	"readreceipt_request",
	"readreceipt_submission_host",
	"readreceipt_submission_timeout",
	"readreceipt_reporting_ua",
	"readreceipt_include_headers",
	"readreceipt_pending_expire",
	"readreceipt_policy_refresh",
	NULL
};

const char *readreceipt_userdb_field_value(const char *field,
					   const char *name)
{
	size_t name_len = strlen(name);

	if (str_begins_with(field, READRECEIPT_USERDB_PLUGIN_PREFIX))
		field += strlen(READRECEIPT_USERDB_PLUGIN_PREFIX);
	if (strncmp(field, name, name_len) != 0)
		return NULL;
	if (field[name_len] == '\0') {
		/* Dovecot reads a field without a value as "yes" */
		return "yes";
	}
	if (field[name_len] == '=')
		return field + name_len + 1;
	/* another key that starts with name */
	return NULL;
}

const char *readreceipt_userdb_fields_value(const char *const *fields,
					    const char *name)
{
	const char *value;

	for (; fields != NULL && *fields != NULL; fields++) {
		value = readreceipt_userdb_field_value(*fields, name);
		if (value != NULL)
			return value;
	}
	return NULL;
}

/* Indexed by enum readreceipt_mode, _unprompted and _request. */
static const char *const readreceipt_mode_names[] = {
	"disabled", "internal", "any", NULL
};
static const char *const readreceipt_unprompted_names[] = {
	"defer", "send", "ignore", NULL
};
static const char *const readreceipt_request_names[] = {
	"strip", "reject", "allow", NULL
};

struct readreceipt_settings_parser {
	pool_t pool;
	readreceipt_setting_lookup_t *lookup;
	void *context;
	struct readreceipt_settings *set;

	/* the first problem found, in the documented order of settings */
	const char *error;
};

static const char *
readreceipt_settings_get(struct readreceipt_settings_parser *parser,
			 const char *name)
{
	return parser->lookup(name, parser->context);
}

static void ATTR_FORMAT(3, 4)
readreceipt_settings_error(struct readreceipt_settings_parser *parser,
			   const char *name, const char *fmt, ...)
{
	va_list args;

	/* Later problems are not reported: a user whose settings are broken
	   gets no receipts either way, and the first one is what the admin
	   fixes first. */
	if (parser->error != NULL)
		return;

	va_start(args, fmt);
	parser->error = p_strdup_printf(parser->pool, "%s: %s", name,
					t_strdup_vprintf(fmt, args));
	va_end(args);
}

/* The value as an error message shows it: quoted, without control
   characters, and shortened when long. */
static const char *readreceipt_settings_quote(const char *value)
{
	return t_strdup_printf("\"%s\"", str_sanitize(value,
		READRECEIPT_SETTINGS_ERROR_VALUE_MAX + 3));
}

/* Scalar settings set to "" count as not set, so that a userdb field can
   hand a user back to the default. Lists are different: an empty list is a
   meaningful value ("readreceipt_exclude =" excludes nothing). */
static const char *
readreceipt_settings_get_scalar(struct readreceipt_settings_parser *parser,
				const char *name)
{
	const char *value = readreceipt_settings_get(parser, name);

	return value == NULL || value[0] == '\0' ? NULL : value;
}

static unsigned int
readreceipt_settings_parse_enum(struct readreceipt_settings_parser *parser,
				const char *name, const char *const *values,
				unsigned int default_idx)
{
	const char *value = readreceipt_settings_get_scalar(parser, name);
	string_t *expected;
	unsigned int i, count;

	if (value == NULL)
		return default_idx;
	count = str_array_length(values);
	for (i = 0; i < count; i++) {
		if (strcmp(value, values[i]) == 0)
			return i;
	}

	expected = t_str_new(64);
	for (i = 0; i < count; i++) {
		if (i > 0)
			str_append(expected, i + 1 < count ? ", " : " or ");
		str_append(expected, values[i]);
	}
	readreceipt_settings_error(parser, name,
		"unknown value %s (expected %s)",
		readreceipt_settings_quote(value), str_c(expected));
	return default_idx;
}

static bool
readreceipt_settings_parse_bool(struct readreceipt_settings_parser *parser,
				const char *name, bool default_value)
{
	const char *value = readreceipt_settings_get_scalar(parser, name);

	if (value == NULL)
		return default_value;
	/* the spellings Dovecot's own settings accept */
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
	    strcmp(value, "1") == 0)
		return TRUE;
	if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 ||
	    strcmp(value, "0") == 0)
		return FALSE;
	readreceipt_settings_error(parser, name,
		"invalid value %s (expected yes or no)",
		readreceipt_settings_quote(value));
	return default_value;
}

static unsigned int
readreceipt_settings_parse_uint(struct readreceipt_settings_parser *parser,
				const char *name, unsigned int default_value,
				unsigned int min_value, unsigned int max_value,
				const char *unit)
{
	const char *value = readreceipt_settings_get_scalar(parser, name);
	unsigned int num;

	if (value == NULL)
		return default_value;
	if (str_to_uint(value, &num) < 0) {
		readreceipt_settings_error(parser, name,
			"invalid value %s (expected a number)",
			readreceipt_settings_quote(value));
		return default_value;
	}
	if (num < min_value || num > max_value) {
		if (max_value == UINT_MAX) {
			readreceipt_settings_error(parser, name,
				"value %s out of range "
				"(expected at least %u%s)",
				readreceipt_settings_quote(value), min_value,
				unit);
		} else {
			readreceipt_settings_error(parser, name,
				"value %s out of range (expected %u to %u%s)",
				readreceipt_settings_quote(value), min_value,
				max_value, unit);
		}
		return default_value;
	}
	return num;
}

/* A time as Dovecot's own settings take it ("30d", "12h", "90 secs",
   "0"). */
static unsigned int
readreceipt_settings_parse_time(struct readreceipt_settings_parser *parser,
				const char *name, const char *default_value)
{
	const char *value = readreceipt_settings_get_scalar(parser, name);
	const char *error;
	unsigned int secs;

	if (value == NULL)
		value = default_value;
	if (readreceipt_compat_parse_interval(value, &secs, &error) < 0) {
		readreceipt_settings_error(parser, name,
			"invalid value %s (expected a time such as 30d, 12h "
			"or 0): %s", readreceipt_settings_quote(value), error);
		if (readreceipt_compat_parse_interval(default_value, &secs,
						      &error) < 0)
			i_unreached();
	}
	return secs;
}

static const char *readreceipt_settings_time(unsigned int secs)
{
	if (secs == 0)
		return "0";
	if (secs % (24 * 3600) == 0)
		return t_strdup_printf("%ud", secs / (24 * 3600));
	if (secs % 3600 == 0)
		return t_strdup_printf("%uh", secs / 3600);
	if (secs % 60 == 0)
		return t_strdup_printf("%um", secs / 60);
	return t_strdup_printf("%us", secs);
}

/* An unset list takes its default; a set one, even "", its own entries. */
static const char *const *
readreceipt_settings_get_list(struct readreceipt_settings_parser *parser,
			      const char *name, const char *default_value)
{
	const char *value = readreceipt_settings_get(parser, name);

	if (value == NULL)
		value = default_value;
	return t_strsplit_spaces(value, READRECEIPT_LIST_SEPARATORS);
}

/* A host or domain name: dot-separated labels of letters, digits and '-'
   (not at either end of a label). */
static bool readreceipt_settings_is_domain(const char *str)
{
	size_t len = strlen(str), label_len = 0, i;

	if (len == 0 || len > READRECEIPT_DOMAIN_MAX_LEN)
		return FALSE;
	for (i = 0; i <= len; i++) {
		if (str[i] == '.' || str[i] == '\0') {
			if (label_len == 0 || str[i-1] == '-')
				return FALSE;
			label_len = 0;
		} else if (i_isalnum(str[i]) ||
			   (str[i] == '-' && label_len > 0)) {
			if (++label_len > READRECEIPT_DOMAIN_LABEL_MAX_LEN)
				return FALSE;
		} else {
			return FALSE;
		}
	}
	return TRUE;
}

static void
readreceipt_settings_parse_domains(struct readreceipt_settings_parser *parser,
				   const char *const *entries)
{
	const char *name = "readreceipt_domains";
	const char *entry, *domain;
	unsigned int i;

	for (i = 0; entries[i] != NULL; i++) {
		entry = entries[i];
		/* ".example.com" also covers the subdomains */
		domain = entry[0] == '.' ? entry + 1 : entry;
		if (!readreceipt_settings_is_domain(domain)) {
			readreceipt_settings_error(parser, name,
				"entry %u (%s): not a domain name", i + 1,
				readreceipt_settings_quote(entry));
			continue;
		}
		entry = p_strdup(parser->pool, t_str_lcase(entry));
		array_push_back(&parser->set->domains, &entry);
	}
}

static int
readreceipt_settings_allow_entry(const char *entry, const char **entry_r,
				 const char **error_r)
{
	if (entry[0] == '@') {
		if (!readreceipt_settings_is_domain(entry + 1)) {
			*error_r = "not a domain name after '@'";
			return -1;
		}
		*entry_r = t_str_lcase(entry);
		return 0;
	}
	if (readreceipt_address_normalize(entry, entry_r, error_r) < 0) {
		*error_r = t_strconcat("invalid address: ", *error_r, NULL);
		return -1;
	}
	return 0;
}

static void
readreceipt_settings_parse_allow(struct readreceipt_settings_parser *parser)
{
	const char *name = "readreceipt_allow";
	const char *const *entries;
	const char *entry, *error;
	unsigned int i;

	entries = readreceipt_settings_get_list(parser, name, "");
	for (i = 0; entries[i] != NULL; i++) {
		if (i == READRECEIPT_ALLOW_MAX_ENTRIES) {
			/* Only the first extra entry is named; the ones that
			   fit are kept for display. */
			readreceipt_settings_error(parser, name,
				"entry %u (%s): more than %u entries", i + 1,
				readreceipt_settings_quote(entries[i]),
				READRECEIPT_ALLOW_MAX_ENTRIES);
			break;
		}
		if (strlen(entries[i]) > READRECEIPT_ALLOW_MAX_ENTRY_LEN) {
			readreceipt_settings_error(parser, name,
				"entry %u (%s): longer than %u characters",
				i + 1, readreceipt_settings_quote(entries[i]),
				READRECEIPT_ALLOW_MAX_ENTRY_LEN);
			continue;
		}
		if (readreceipt_settings_allow_entry(entries[i], &entry,
						     &error) < 0) {
			readreceipt_settings_error(parser, name,
				"entry %u (%s): %s", i + 1,
				readreceipt_settings_quote(entries[i]), error);
			continue;
		}
		entry = p_strdup(parser->pool, entry);
		array_push_back(&parser->set->allow, &entry);
	}
}

static void
readreceipt_settings_parse_user_email(
	struct readreceipt_settings_parser *parser, const char *username)
{
	const char *name = "readreceipt_user_email";
	const char *value, *addr, *error;

	value = readreceipt_settings_get_scalar(parser, name);
	if (value == NULL) {
		/* the username, when it is an address */
		if (username != NULL &&
		    readreceipt_address_normalize(username, &addr,
						  &error) == 0)
			parser->set->user_email = p_strdup(parser->pool, addr);
		return;
	}
	if (readreceipt_address_normalize(value, &addr, &error) < 0) {
		/* Left NULL rather than guessed from the username: receipts
		   are off for this user anyway, and a display then shows
		   that the address is unknown. */
		readreceipt_settings_error(parser, name,
			"invalid address %s (%s)",
			readreceipt_settings_quote(value), error);
		return;
	}
	parser->set->user_email = p_strdup(parser->pool, addr);
}

static void
readreceipt_settings_parse_exclude(struct readreceipt_settings_parser *parser)
{
	const char *name = "readreceipt_exclude";
	const char *const *entries;
	const char *entry;
	unsigned int i, j;

	entries = readreceipt_settings_get_list(parser, name,
						READRECEIPT_EXCLUDE_DEFAULT);
	for (i = 0; entries[i] != NULL; i++) {
		entry = entries[i];
		if (entry[0] == '\\') {
			/* A special-use flag: syntax only, so that flags
			   this list does not know still work. */
			j = 1;
			while (i_isalpha(entry[j]))
				j++;
			if (j == 1 || entry[j] != '\0') {
				readreceipt_settings_error(parser, name,
					"entry %u (%s): not a special-use flag",
					i + 1,
					readreceipt_settings_quote(entry));
				continue;
			}
		}
		entry = p_strdup(parser->pool, entry);
		array_push_back(&parser->set->exclude, &entry);
	}
}

static void
readreceipt_settings_parse_prompt_clients(
	struct readreceipt_settings_parser *parser)
{
	const char *const *entries;
	const char *entry;
	unsigned int i;

	/* Globs match case-insensitively, so they are kept as written. */
	entries = readreceipt_settings_get_list(parser,
		"readreceipt_prompt_clients",
		READRECEIPT_PROMPT_CLIENTS_DEFAULT);
	for (i = 0; entries[i] != NULL; i++) {
		entry = p_strdup(parser->pool, entries[i]);
		array_push_back(&parser->set->prompt_clients, &entry);
	}
}

static void
readreceipt_settings_parse_submission_host(
	struct readreceipt_settings_parser *parser)
{
	const char *name = "readreceipt_submission_host";
	const char *value, *host, *error = NULL;
	struct ip_addr ip;
	in_port_t port;

	value = readreceipt_settings_get_scalar(parser, name);
	if (value == NULL)
		return;

	/* The same forms Dovecot's submission_host takes: host, host:port,
	   IPv6 or [IPv6]:port. */
	if (net_str2hostport(value, 0, &host, &port) < 0)
		error = "expected host or host:port, port 1-65535";
	else if (value[0] == '[' || strchr(host, ':') != NULL) {
		if (strchr(host, ':') == NULL ||
		    net_addr2ip(host, &ip) < 0)
			error = "invalid IPv6 address";
	} else if (!readreceipt_settings_is_domain(host))
		error = "invalid host name";

	if (error != NULL) {
		readreceipt_settings_error(parser, name,
			"invalid value %s (%s)",
			readreceipt_settings_quote(value), error);
		return;
	}
	parser->set->submission_host = p_strdup(parser->pool, value);
}

static const char *
readreceipt_settings_reporting_ua_default(pool_t pool, const char *hostname)
{
	if (hostname == NULL || hostname[0] == '\0')
		return READRECEIPT_REPORTING_UA_PRODUCT;
	return p_strconcat(pool, hostname, "; ",
			   READRECEIPT_REPORTING_UA_PRODUCT, NULL);
}

static void
readreceipt_settings_parse_reporting_ua(
	struct readreceipt_settings_parser *parser, const char *hostname)
{
	const char *name = "readreceipt_reporting_ua";
	const char *value, *p;

	/* The default until a valid value replaces it, so that what a
	   display shows is what would be sent. */
	parser->set->reporting_ua =
		readreceipt_settings_reporting_ua_default(parser->pool,
							  hostname);
	value = readreceipt_settings_get(parser, name);
	if (value == NULL)
		return;

	/* The value becomes a header field of a 7bit MIME part: a CR or LF
	   would let it add fields of its own. */
	for (p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			break;
	}
	if (*p != '\0') {
		readreceipt_settings_error(parser, name,
			"invalid value %s (only printable ASCII is allowed)",
			readreceipt_settings_quote(value));
	} else if (strlen(value) > READRECEIPT_REPORTING_UA_MAX_LEN) {
		readreceipt_settings_error(parser, name,
			"invalid value %s (longer than %u characters)",
			readreceipt_settings_quote(value),
			READRECEIPT_REPORTING_UA_MAX_LEN);
	} else {
		/* "" is kept: it omits the field */
		parser->set->reporting_ua = p_strdup(parser->pool, value);
	}
}

static unsigned int
readreceipt_settings_enum_default(const char *const *values,
				  const char *default_value)
{
	unsigned int i;

	for (i = 0; values[i] != NULL; i++) {
		if (strcmp(values[i], default_value) == 0)
			return i;
	}
	i_unreached();
}

static void
readreceipt_settings_parse_all(struct readreceipt_settings_parser *parser,
			       const char *username, const char *hostname)
{
	struct readreceipt_settings *set = parser->set;
	const char *domains_value, *domain;

	set->mode = readreceipt_settings_parse_enum(parser,
		"readreceipt_mode", readreceipt_mode_names,
		readreceipt_settings_enum_default(readreceipt_mode_names,
						  READRECEIPT_MODE_DEFAULT));

	/* The default of readreceipt_domains needs readreceipt_user_email,
	   but errors are still reported in the documented order. */
	domains_value = readreceipt_settings_get(parser, "readreceipt_domains");
	if (domains_value != NULL) {
		readreceipt_settings_parse_domains(parser,
			t_strsplit_spaces(domains_value,
					  READRECEIPT_LIST_SEPARATORS));
	}
	readreceipt_settings_parse_allow(parser);
	set->prompt = readreceipt_settings_parse_bool(parser,
		"readreceipt_prompt", READRECEIPT_PROMPT_DEFAULT);
	readreceipt_settings_parse_user_email(parser, username);
	if (domains_value == NULL && set->user_email != NULL) {
		domain = p_strdup(parser->pool,
			readreceipt_address_domain(set->user_email));
		array_push_back(&set->domains, &domain);
	}

	set->unprompted = readreceipt_settings_parse_enum(parser,
		"readreceipt_unprompted", readreceipt_unprompted_names,
		readreceipt_settings_enum_default(readreceipt_unprompted_names,
			READRECEIPT_UNPROMPTED_DEFAULT));
	readreceipt_settings_parse_prompt_clients(parser);
	set->bulk_limit = readreceipt_settings_parse_uint(parser,
		"readreceipt_bulk_limit", READRECEIPT_BULK_LIMIT_DEFAULT,
		1, UINT_MAX, "");
	readreceipt_settings_parse_exclude(parser);
	/* 0 means no hourly limit. */
	set->max_per_hour = readreceipt_settings_parse_uint(parser,
		"readreceipt_max_per_hour", READRECEIPT_MAX_PER_HOUR_DEFAULT,
		0, UINT_MAX, "");
	set->hide_forbidden = readreceipt_settings_parse_bool(parser,
		"readreceipt_hide_forbidden",
		READRECEIPT_HIDE_FORBIDDEN_DEFAULT);
	set->request = readreceipt_settings_parse_enum(parser,
		"readreceipt_request", readreceipt_request_names,
		readreceipt_settings_enum_default(readreceipt_request_names,
			READRECEIPT_REQUEST_DEFAULT));
	readreceipt_settings_parse_submission_host(parser);
	set->submission_timeout_secs = readreceipt_settings_parse_uint(parser,
		"readreceipt_submission_timeout",
		READRECEIPT_SUBMISSION_TIMEOUT_DEFAULT,
		1, READRECEIPT_SUBMISSION_TIMEOUT_MAX, " seconds");
	readreceipt_settings_parse_reporting_ua(parser, hostname);
	set->include_headers = readreceipt_settings_parse_bool(parser,
		"readreceipt_include_headers",
		READRECEIPT_INCLUDE_HEADERS_DEFAULT);
	set->pending_expire_secs = readreceipt_settings_parse_time(parser,
		"readreceipt_pending_expire",
		READRECEIPT_PENDING_EXPIRE_DEFAULT);
	set->policy_refresh_secs = readreceipt_settings_parse_time(parser,
		"readreceipt_policy_refresh",
		READRECEIPT_POLICY_REFRESH_DEFAULT);
}

int readreceipt_settings_parse(pool_t pool,
			       readreceipt_setting_lookup_t *lookup,
			       void *context, const char *username,
			       const char *hostname,
			       struct readreceipt_settings **set_r,
			       const char **error_r)
{
	struct readreceipt_settings_parser parser;
	struct readreceipt_settings *set;

	set = p_new(pool, struct readreceipt_settings, 1);
	p_array_init(&set->domains, pool, 4);
	p_array_init(&set->allow, pool, 8);
	p_array_init(&set->prompt_clients, pool, 4);
	p_array_init(&set->exclude, pool, 4);

	i_zero(&parser);
	parser.pool = pool;
	parser.lookup = lookup;
	parser.context = context;
	parser.set = set;

	/* Temporary strings go to the data stack; a data stack pool has to
	   stay in its own frame. */
	if (pool->datastack_pool)
		readreceipt_settings_parse_all(&parser, username, hostname);
	else {
		T_BEGIN {
			readreceipt_settings_parse_all(&parser, username,
						       hostname);
		} T_END;
	}

	*set_r = set;
	if (parser.error != NULL) {
		/* Invalid settings never lock the user out of mail: they
		   only stop receipts. */
		set->mode = READRECEIPT_MODE_DISABLED;
		set->error = parser.error;
		*error_r = parser.error;
		return -1;
	}
	return 0;
}

const char *readreceipt_mode_to_str(enum readreceipt_mode mode)
{
	switch (mode) {
	case READRECEIPT_MODE_DISABLED:
	case READRECEIPT_MODE_INTERNAL:
	case READRECEIPT_MODE_ANY:
		return readreceipt_mode_names[mode];
	}
	i_unreached();
}

static const char *
readreceipt_settings_join(const ARRAY_TYPE(const_string) *list)
{
	string_t *str = t_str_new(128);
	const char *entry;

	array_foreach_elem(list, entry) {
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, entry);
	}
	return str_c(str);
}

static const char *readreceipt_settings_bool(bool value)
{
	return value ? "yes" : "no";
}

const char *
readreceipt_settings_value(const struct readreceipt_settings *set,
			   const char *name)
{
	if (strcmp(name, "readreceipt_mode") == 0)
		return readreceipt_mode_names[set->mode];
	if (strcmp(name, "readreceipt_domains") == 0)
		return readreceipt_settings_join(&set->domains);
	if (strcmp(name, "readreceipt_allow") == 0)
		return readreceipt_settings_join(&set->allow);
	if (strcmp(name, "readreceipt_prompt") == 0)
		return readreceipt_settings_bool(set->prompt);
	if (strcmp(name, "readreceipt_user_email") == 0)
		return set->user_email == NULL ? "" : set->user_email;
	if (strcmp(name, "readreceipt_unprompted") == 0)
		return readreceipt_unprompted_names[set->unprompted];
	if (strcmp(name, "readreceipt_prompt_clients") == 0)
		return readreceipt_settings_join(&set->prompt_clients);
	if (strcmp(name, "readreceipt_bulk_limit") == 0)
		return dec2str(set->bulk_limit);
	if (strcmp(name, "readreceipt_exclude") == 0)
		return readreceipt_settings_join(&set->exclude);
	if (strcmp(name, "readreceipt_max_per_hour") == 0)
		return dec2str(set->max_per_hour);
	if (strcmp(name, "readreceipt_hide_forbidden") == 0)
		return readreceipt_settings_bool(set->hide_forbidden);
	if (strcmp(name, "readreceipt_request") == 0)
		return readreceipt_request_names[set->request];
	if (strcmp(name, "readreceipt_submission_host") == 0)
		return set->submission_host == NULL ? "" : set->submission_host;
	if (strcmp(name, "readreceipt_submission_timeout") == 0)
		return dec2str(set->submission_timeout_secs);
	if (strcmp(name, "readreceipt_reporting_ua") == 0)
		return set->reporting_ua;
	if (strcmp(name, "readreceipt_include_headers") == 0)
		return readreceipt_settings_bool(set->include_headers);
	if (strcmp(name, "readreceipt_pending_expire") == 0)
		return readreceipt_settings_time(set->pending_expire_secs);
	if (strcmp(name, "readreceipt_policy_refresh") == 0)
		return readreceipt_settings_time(set->policy_refresh_secs);
	return NULL;
}
