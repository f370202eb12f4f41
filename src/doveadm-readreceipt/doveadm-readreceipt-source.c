/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"
#include "doveadm-readreceipt-source.h"

enum doveadm_readreceipt_source
doveadm_readreceipt_setting_source(const char *name, const char *value,
				   bool configured,
				   const char *const *userdb_fields)
{
	if (value == NULL)
		return DOVEADM_READRECEIPT_SOURCE_DEFAULT;
	for (; userdb_fields != NULL && *userdb_fields != NULL;
	     userdb_fields++) {
		if (null_strcmp(readreceipt_userdb_field_value(
					*userdb_fields, name), value) == 0)
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
