/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "settings-parser.h"
#include "mail-storage-service.h"
#include "readreceipt-compat.h"

const char *
readreceipt_compat_core_setting(struct mail_user *user, const char *name)
{
	struct setting_parser_context *parser;
	enum setting_type type;
	const void *value;

	if (user->_service_user == NULL)
		return NULL;
	parser = mail_storage_service_user_get_settings_parser(
		user->_service_user);
	if (parser == NULL || !settings_parse_is_valid_key(parser, name))
		return NULL;
	value = settings_parse_get_value(parser, name, &type);
	if (value == NULL || *(const char *const *)value == NULL)
		return NULL;
	if (type == SET_STR)
		return *(const char *const *)value;
	if (type == SET_STR_VARS) {
		/* unexpanded values carry a one-character marker */
		const char *str = *(const char *const *)value;
		return *str == '\0' ? str : str + 1;
	}
	return NULL;
}
