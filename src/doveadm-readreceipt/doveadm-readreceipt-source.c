/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "readreceipt-compat.h"
#include "doveadm-readreceipt-source.h"

/* userdb fields that are not core settings reach plugin {} under this
   prefix; a userdb may also return them with it */
#define DOVEADM_READRECEIPT_USERDB_PLUGIN_PREFIX "plugin/"

/* TRUE if field ("key=value" or "key") sets name to value. */
static bool
doveadm_readreceipt_userdb_field_sets(const char *field, const char *name,
				      const char *value)
{
	const char *field_value;
	size_t name_len = strlen(name);

	if (str_begins_with(field, DOVEADM_READRECEIPT_USERDB_PLUGIN_PREFIX))
		field += strlen(DOVEADM_READRECEIPT_USERDB_PLUGIN_PREFIX);
	if (strncmp(field, name, name_len) != 0)
		return FALSE;
	if (field[name_len] == '\0') {
		/* Dovecot reads a field without a value as "yes" */
		field_value = "yes";
	} else if (field[name_len] == '=') {
		field_value = field + name_len + 1;
	} else {
		/* another key that starts with name */
		return FALSE;
	}
	return strcmp(field_value, value) == 0;
}

enum doveadm_readreceipt_source
doveadm_readreceipt_setting_source(const char *name, const char *value,
				   bool configured,
				   const char *const *userdb_fields)
{
	if (value == NULL)
		return DOVEADM_READRECEIPT_SOURCE_DEFAULT;
	for (; userdb_fields != NULL && *userdb_fields != NULL;
	     userdb_fields++) {
		if (doveadm_readreceipt_userdb_field_sets(*userdb_fields, name,
							  value))
			return DOVEADM_READRECEIPT_SOURCE_USERDB;
	}
	return configured ? DOVEADM_READRECEIPT_SOURCE_CONFIG :
		DOVEADM_READRECEIPT_SOURCE_DEFAULT;
}

const char *
doveadm_readreceipt_source_to_str(enum doveadm_readreceipt_source source)
{
	switch (source) {
	case DOVEADM_READRECEIPT_SOURCE_DEFAULT:
		return "default";
	case DOVEADM_READRECEIPT_SOURCE_CONFIG:
		return "config";
	case DOVEADM_READRECEIPT_SOURCE_USERDB:
		return "userdb";
	}
	i_unreached();
}
