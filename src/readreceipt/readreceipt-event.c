/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "strescape.h"
#include "readreceipt-event.h"

struct event_category event_category_readreceipt = {
	.name = "readreceipt",
};

static bool readreceipt_event_value_needs_quotes(const char *value)
{
	const unsigned char *p;

	if (*value == '\0')
		return TRUE;
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p >= 0x7f)
			return TRUE;
	}
	return FALSE;
}

static void
readreceipt_event_append(string_t *str, const char *key, const char *value)
{
	if (str_len(str) > 0)
		str_append_c(str, ' ');
	str_append(str, key);
	str_append_c(str, '=');
	if (value == NULL)
		value = "";
	if (!readreceipt_event_value_needs_quotes(value)) {
		str_append(str, value);
		return;
	}
	/* Quote, and escape what could fake another field or line: the
	   values (message IDs, mailbox names) come from outside. */
	str_append_c(str, '"');
	for (; *value != '\0'; value++) {
		unsigned char c = (unsigned char)*value;

		if (c == '"' || c == '\\') {
			str_append_c(str, '\\');
			str_append_c(str, c);
		} else if (c < ' ' || c == 0x7f) {
			str_printfa(str, "\\x%02x", c);
		} else {
			str_append_c(str, c);
		}
	}
	str_append_c(str, '"');
}

const char *readreceipt_trigger_to_str(enum readreceipt_trigger trigger)
{
	switch (trigger) {
	case READRECEIPT_TRIGGER_OPEN:
		return "open";
	case READRECEIPT_TRIGGER_MARK:
		return "mark";
	case READRECEIPT_TRIGGER_POP3:
		return "pop3";
	case READRECEIPT_TRIGGER_ANSWER:
		return "answer";
	case READRECEIPT_TRIGGER_FLUSH:
		return "flush";
	case READRECEIPT_TRIGGER_DELIVERY:
		return "delivery";
	}
	i_unreached();
}

const char *
readreceipt_event_addresses(const ARRAY_TYPE(const_string) *addrs)
{
	string_t *str;
	const char *addr;

	if (!array_is_created(addrs) || array_count(addrs) == 0)
		return "";
	/* not t_strarray_join(): the array has no NULL at its end */
	str = t_str_new(128);
	array_foreach_elem(addrs, addr) {
		if (str_len(str) > 0)
			str_append_c(str, ',');
		str_append(str, addr);
	}
	return str_c(str);
}

const char *readreceipt_event_message_id(const char *message_id)
{
	if (message_id == NULL)
		return "";
	/* the log line escapes it; just keep it short */
	if (strlen(message_id) > READRECEIPT_EVENT_MESSAGE_ID_MAX) {
		return t_strconcat(t_strndup(message_id,
				   READRECEIPT_EVENT_MESSAGE_ID_MAX),
				   "...", NULL);
	}
	return message_id;
}

const char *readreceipt_event_field(const char *value)
{
	const size_t keep = READRECEIPT_EVENT_FIELD_MAX -
		strlen(READRECEIPT_EVENT_TRUNCATED);
	size_t len;

	if (value == NULL)
		return "";
	if (strnlen(value, READRECEIPT_EVENT_FIELD_MAX + 1) <=
	    READRECEIPT_EVENT_FIELD_MAX)
		return value;
	/* not inside a UTF-8 sequence: back to the byte that starts one */
	len = keep;
	while (len > 0 && ((unsigned char)value[len] & 0xc0) == 0x80)
		len--;
	return t_strconcat(t_strndup(value, len),
			   READRECEIPT_EVENT_TRUNCATED, NULL);
}

/* info with every string field within READRECEIPT_EVENT_FIELD_MAX */
static void
readreceipt_event_bound(const struct readreceipt_decision_info *info,
			struct readreceipt_decision_info *bounded_r)
{
	*bounded_r = *info;
	bounded_r->decision = readreceipt_event_field(info->decision);
	bounded_r->reason = readreceipt_event_field(info->reason);
	bounded_r->trigger = readreceipt_event_field(info->trigger);
	bounded_r->mode = readreceipt_event_field(info->mode);
	bounded_r->mailbox = readreceipt_event_field(info->mailbox);
	bounded_r->message_id = readreceipt_event_field(info->message_id);
	bounded_r->recipient = readreceipt_event_field(info->recipient);
	if (info->error != NULL)
		bounded_r->error = readreceipt_event_field(info->error);
}

static void
readreceipt_event_submission_bound(
	const struct readreceipt_submission_info *info,
	struct readreceipt_submission_info *bounded_r)
{
	*bounded_r = *info;
	bounded_r->action = readreceipt_event_field(info->action);
	bounded_r->reason = readreceipt_event_field(info->reason);
	bounded_r->kind = readreceipt_event_field(info->kind);
	bounded_r->message_id = readreceipt_event_field(info->message_id);
	bounded_r->recipient = readreceipt_event_field(info->recipient);
}

/* The log line of an info that is bounded already. */
static const char *
readreceipt_event_format_bounded(const struct readreceipt_decision_info *info)
{
	string_t *str = t_str_new(256);

	readreceipt_event_append(str, "decision", info->decision);
	readreceipt_event_append(str, "reason", info->reason);
	readreceipt_event_append(str, "trigger", info->trigger);
	readreceipt_event_append(str, "mode", info->mode);
	readreceipt_event_append(str, "mailbox", info->mailbox);
	readreceipt_event_append(str, "uid", info->uid == 0 ? "" :
				 dec2str(info->uid));
	readreceipt_event_append(str, "message_id", info->message_id);
	readreceipt_event_append(str, "recipient", info->recipient);
	if (info->error != NULL)
		readreceipt_event_append(str, "error", info->error);
	return str_c(str);
}

const char *
readreceipt_event_format(const struct readreceipt_decision_info *info)
{
	struct readreceipt_decision_info bounded;

	readreceipt_event_bound(info, &bounded);
	return readreceipt_event_format_bounded(&bounded);
}

static void
readreceipt_event_decision_emit(struct event *parent,
				const struct readreceipt_decision_info *_info)
{
	struct readreceipt_decision_info bounded;
	const struct readreceipt_decision_info *info = &bounded;
	struct event_passthrough *e;
	const char *line;

	readreceipt_event_bound(_info, &bounded);
	e = event_create_passthrough(parent)->
		set_name(READRECEIPT_EVENT_DECISION)->
		add_str("decision", info->decision)->
		add_str("reason", info->reason)->
		add_str("trigger", info->trigger)->
		add_str("mode", info->mode)->
		add_str("mailbox", info->mailbox)->
		add_str("message_id", info->message_id)->
		add_str("recipient", info->recipient);
	if (info->uid != 0)
		e->add_int("uid", info->uid);
	if (info->error != NULL)
		e->add_str("error", info->error);

	line = readreceipt_event_format_bounded(info);
	if (strcmp(info->decision, "failed") == 0)
		e_warning(e->event(), "%s", line);
	else
		e_info(e->event(), "%s", line);
}

void readreceipt_event_decision(struct event *parent,
				const struct readreceipt_decision_info *info)
{
	T_BEGIN {
		readreceipt_event_decision_emit(parent, info);
	} T_END;
}

static const char *
readreceipt_event_submission_format_bounded(
	const struct readreceipt_submission_info *info)
{
	string_t *str = t_str_new(256);

	readreceipt_event_append(str, "action", info->action);
	readreceipt_event_append(str, "reason", info->reason);
	readreceipt_event_append(str, "kind", info->kind);
	readreceipt_event_append(str, "message_id", info->message_id);
	readreceipt_event_append(str, "recipient", info->recipient);
	return str_c(str);
}

const char *
readreceipt_event_submission_format(
	const struct readreceipt_submission_info *info)
{
	struct readreceipt_submission_info bounded;

	readreceipt_event_submission_bound(info, &bounded);
	return readreceipt_event_submission_format_bounded(&bounded);
}

void
readreceipt_event_submission(struct event *parent,
			     const struct readreceipt_submission_info *_info)
{
	struct readreceipt_submission_info bounded;
	const struct readreceipt_submission_info *info = &bounded;
	struct event_passthrough *e;

	T_BEGIN {
		readreceipt_event_submission_bound(_info, &bounded);
		e = event_create_passthrough(parent)->
			set_name(READRECEIPT_EVENT_SUBMISSION)->
			add_str("action", info->action)->
			add_str("reason", info->reason)->
			add_str("kind", info->kind)->
			add_str("message_id", info->message_id)->
			add_str("recipient", info->recipient);
		e_info(e->event(), "%s",
		       readreceipt_event_submission_format_bounded(info));
	} T_END;
}

static void
readreceipt_event_policy_changed_bound(
	const struct readreceipt_policy_change_info *info,
	struct readreceipt_policy_change_info *bounded_r)
{
	bounded_r->user = readreceipt_event_field(info->user);
	bounded_r->setting = readreceipt_event_field(info->setting);
	bounded_r->old_value = readreceipt_event_field(info->old_value);
	bounded_r->new_value = readreceipt_event_field(info->new_value);
	bounded_r->source = readreceipt_event_field(info->source);
	bounded_r->error = info->error == NULL ? NULL :
		readreceipt_event_field(info->error);
}

static const char *
readreceipt_event_policy_changed_format_bounded(
	const struct readreceipt_policy_change_info *info)
{
	string_t *str = t_str_new(256);

	readreceipt_event_append(str, "user", info->user);
	readreceipt_event_append(str, "setting", info->setting);
	readreceipt_event_append(str, "old", info->old_value);
	readreceipt_event_append(str, "new", info->new_value);
	readreceipt_event_append(str, "source", info->source);
	if (info->error != NULL)
		readreceipt_event_append(str, "error", info->error);
	return str_c(str);
}

const char *
readreceipt_event_policy_changed_format(
	const struct readreceipt_policy_change_info *info)
{
	struct readreceipt_policy_change_info bounded;

	readreceipt_event_policy_changed_bound(info, &bounded);
	return readreceipt_event_policy_changed_format_bounded(&bounded);
}

void readreceipt_event_policy_changed(
	struct event *parent, const struct readreceipt_policy_change_info *_info)
{
	struct readreceipt_policy_change_info bounded;
	const struct readreceipt_policy_change_info *info = &bounded;
	struct event_passthrough *e;
	const char *line;

	T_BEGIN {
		readreceipt_event_policy_changed_bound(_info, &bounded);
		e = event_create_passthrough(parent)->
			set_name(READRECEIPT_EVENT_POLICY_CHANGED)->
			add_str("user", info->user)->
			add_str("setting", info->setting)->
			add_str("old", info->old_value)->
			add_str("new", info->new_value)->
			add_str("source", info->source);
		if (info->error != NULL)
			e->add_str("error", info->error);
		line = readreceipt_event_policy_changed_format_bounded(info);
		if (info->error != NULL)
			e_warning(e->event(), "policy changed: %s", line);
		else
			e_info(e->event(), "policy changed: %s", line);
	} T_END;
}
