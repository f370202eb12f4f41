/* Copyright (c) dovecot-readreceipt authors */

#include "lib.h"
#include "array.h"
#include "buffer.h"
#include "rfc822-parser.h"
#include "message-address.h"
#include "readreceipt-address.h"

/* message_address_parse() stops quietly at the first text it cannot fit
   into an address-list ("a@b c@d", "a@b; c@d", "<a@b> x") and returns what
   it has so far, without marking anything invalid. To notice such trailing
   text the value is parsed with this address appended: when it comes back
   as the last address, the parser consumed everything the caller gave. The
   .invalid TLD (RFC 2606) can never be a real recipient. */
#define READRECEIPT_ADDRESS_END_MAILBOX "readreceipt-end"
#define READRECEIPT_ADDRESS_END_DOMAIN "end.invalid"
#define READRECEIPT_ADDRESS_END \
	READRECEIPT_ADDRESS_END_MAILBOX"@"READRECEIPT_ADDRESS_END_DOMAIN

struct readreceipt_address_list_result {
	/* number of addresses appended */
	unsigned int count;
	/* the value contained at least one group */
	bool have_group;
};

static bool readreceipt_address_is_end(const struct message_address *addr)
{
	return addr->next == NULL && !addr->invalid_syntax &&
		addr->mailbox != NULL && addr->domain != NULL &&
		strcmp(addr->mailbox, READRECEIPT_ADDRESS_END_MAILBOX) == 0 &&
		strcmp(addr->domain, READRECEIPT_ADDRESS_END_DOMAIN) == 0;
}

static int
readreceipt_address_make(const struct message_address *addr,
			 const char **addr_r, const char **error_r)
{
	/* An empty local part ("\"\"@example.com") is accepted by the
	   parser, but its normalized form would read like an "@domain"
	   allow entry. */
	if (addr->mailbox == NULL || addr->mailbox[0] == '\0') {
		*error_r = "missing local part";
		return -1;
	}
	if (addr->domain == NULL || addr->domain[0] == '\0') {
		*error_r = "missing domain";
		return -1;
	}
	/* A quoted local part that starts with '@' ("\"@x\"@example.com")
	   would make the normalized form read like an "@domain" allow
	   entry. No real mailbox is named so. */
	if (addr->mailbox[0] == '@') {
		*error_r = "invalid local part";
		return -1;
	}
	if (addr->invalid_syntax) {
		*error_r = "invalid syntax";
		return -1;
	}
	/* Only a domain literal can contain '@'; it would make the domain
	   of the normalized form ambiguous. */
	if (strchr(addr->domain, '@') != NULL) {
		*error_r = "invalid domain";
		return -1;
	}
	*addr_r = t_strconcat(addr->mailbox, "@",
			      t_str_lcase(addr->domain), NULL);
	return 0;
}

/* Drop trailing whitespace and one trailing comma: an address-list may end
   with an empty element ("a@b,"), which the parser accepts, but followed by
   the end marker it would look like an empty address in the middle. */
static size_t readreceipt_address_trim_end(const char *value)
{
	size_t len = strlen(value);

	while (len > 0 && (value[len-1] == ' ' || value[len-1] == '\t' ||
			   value[len-1] == '\r' || value[len-1] == '\n'))
		len--;
	if (len > 0 && value[len-1] == ',')
		len--;
	return len;
}

/* Returns 1 if value has something other than whitespace and comments, 0 if
   it is empty, -1 if it ends inside a comment. */
static int readreceipt_address_has_content(const char *value)
{
	struct rfc822_parser_context parser;
	int ret;

	rfc822_parser_init(&parser, (const unsigned char *)value,
			   strlen(value), NULL);
	ret = rfc822_skip_lwsp(&parser);
	rfc822_parser_deinit(&parser);
	return ret;
}

static int
readreceipt_address_list_parse(const char *value, pool_t pool,
			       ARRAY_TYPE(const_string) *addrs,
			       struct readreceipt_address_list_result *result_r,
			       const char **error_r)
{
	const unsigned int max_count = READRECEIPT_ADDRESS_MAX_PER_HEADER;
	const struct message_address *addr;
	const char *data, *norm;
	unsigned int top_count = 0;
	bool in_group = FALSE, end_seen = FALSE;
	int ret;

	i_zero(result_r);
	if ((ret = readreceipt_address_has_content(value)) <= 0) {
		if (ret < 0) {
			*error_r = "invalid syntax";
			return -1;
		}
		return 0;
	}

	data = t_strconcat(t_strndup(value,
				     readreceipt_address_trim_end(value)),
			   ", "READRECEIPT_ADDRESS_END, NULL);
	/* The parser counts top-level items (an address or a whole group);
	   one more than the bound leaves room for the end marker. */
	addr = message_address_parse(pool_datastack_create(),
				     (const unsigned char *)data, strlen(data),
				     max_count + 1, 0);
	for (; addr != NULL; addr = addr->next) {
		if (!in_group && readreceipt_address_is_end(addr)) {
			end_seen = TRUE;
			break;
		}
		if (addr->domain == NULL) {
			/* group start (carries the group's name) or end */
			if (addr->invalid_syntax) {
				*error_r = "invalid group syntax";
				return -1;
			}
			if (!in_group) {
				if (++top_count > max_count)
					break;
				result_r->have_group = TRUE;
			}
			in_group = !in_group;
			continue;
		}
		if (!in_group && ++top_count > max_count)
			break;
		if (readreceipt_address_make(addr, &norm, error_r) < 0)
			return -1;
		norm = p_strdup(pool, norm);
		array_push_back(addrs, &norm);
		if (++result_r->count == max_count) {
			/* the bound: the rest is ignored unseen */
			return 0;
		}
	}
	if (!end_seen && top_count <= max_count) {
		*error_r = "unexpected text after an address";
		return -1;
	}
	return 0;
}

int readreceipt_address_normalize(const char *input, const char **addr_r,
				  const char **error_r)
{
	struct readreceipt_address_list_result result;
	ARRAY_TYPE(const_string) addrs;

	t_array_init(&addrs, 2);
	if (readreceipt_address_list_parse(input, pool_datastack_create(),
					   &addrs, &result, error_r) < 0)
		return -1;
	if (result.have_group) {
		*error_r = "a group, not an address";
		return -1;
	}
	if (result.count == 0) {
		*error_r = "no address";
		return -1;
	}
	if (result.count > 1) {
		*error_r = "more than one address";
		return -1;
	}
	*addr_r = array_idx_elem(&addrs, 0);
	return 0;
}

int readreceipt_address_parse_list(const char *value,
				   ARRAY_TYPE(const_string) *addrs)
{
	struct readreceipt_address_list_result result;
	pool_t pool = buffer_get_pool(addrs->arr.buffer);
	const char *error;
	int ret;

	/* The normalized strings live as long as the array. A data stack
	   pool must not be used from a frame other than its own, so only
	   other pools get a frame for the temporary parse results. */
	if (pool->datastack_pool) {
		ret = readreceipt_address_list_parse(value, pool, addrs,
						     &result, &error);
	} else {
		T_BEGIN {
			ret = readreceipt_address_list_parse(value, pool, addrs,
							     &result, &error);
		} T_END;
	}
	return ret < 0 ? -1 : (int)result.count;
}

int readreceipt_address_parse_path(const char *value, const char **addr_r)
{
	struct message_address *addr;
	const char *error;

	*addr_r = NULL;
	if (message_address_parse_path(pool_datastack_create(),
				       (const unsigned char *)value,
				       strlen(value), &addr) < 0 ||
	    addr == NULL)
		return -1;
	if (addr->mailbox == NULL && addr->domain == NULL &&
	    !addr->invalid_syntax) {
		/* "<>": the null reverse-path */
		*addr_r = "";
		return 0;
	}
	return readreceipt_address_make(addr, addr_r, &error);
}

const char *readreceipt_address_domain(const char *addr)
{
	const char *p = strrchr(addr, '@');

	return p == NULL ? "" : p + 1;
}

bool readreceipt_address_equals(const char *addr1, const char *addr2)
{
	const char *at1 = strrchr(addr1, '@');
	const char *at2 = strrchr(addr2, '@');

	if (at1 == NULL || at2 == NULL)
		return strcmp(addr1, addr2) == 0;
	/* local parts exactly, domains in any case */
	if (at1 - addr1 != at2 - addr2 ||
	    memcmp(addr1, addr2, at1 - addr1) != 0)
		return FALSE;
	return strcasecmp(at1 + 1, at2 + 1) == 0;
}

static bool
readreceipt_domain_matches_entry(const char *domain, const char *entry)
{
	size_t domain_len, suffix_len;

	if (entry[0] != '.')
		return strcasecmp(domain, entry) == 0;

	/* ".example.com": example.com itself and every subdomain */
	if (strcasecmp(domain, entry + 1) == 0)
		return TRUE;
	domain_len = strlen(domain);
	suffix_len = strlen(entry);
	return domain_len > suffix_len &&
		strcasecmp(domain + domain_len - suffix_len, entry) == 0;
}

bool readreceipt_domain_matches(const char *domain,
				const ARRAY_TYPE(const_string) *domains)
{
	const char *entry;

	if (domain[0] == '\0')
		return FALSE;
	array_foreach_elem(domains, entry) {
		if (readreceipt_domain_matches_entry(domain, entry))
			return TRUE;
	}
	return FALSE;
}

bool readreceipt_allow_matches(const char *addr,
			       const ARRAY_TYPE(const_string) *allow)
{
	const char *entry, *domain = readreceipt_address_domain(addr);

	if (domain[0] == '\0')
		return FALSE;
	array_foreach_elem(allow, entry) {
		if (entry[0] == '@') {
			if (strcasecmp(domain, entry + 1) == 0)
				return TRUE;
		} else if (readreceipt_address_equals(addr, entry)) {
			return TRUE;
		}
	}
	return FALSE;
}
