/* Copyright (c) dovecot-readreceipt authors */

#include "lib.h"
#include "array.h"
#include "wildcard-match.h"
#include "readreceipt-settings.h"
#include "readreceipt-client.h"

bool readreceipt_client_shows_prompt(const struct readreceipt_settings *set,
				     const char *id_name)
{
	const char *glob;

	if (id_name == NULL || id_name[0] == '\0' ||
	    strlen(id_name) > READRECEIPT_CLIENT_NAME_MAX_LEN)
		return FALSE;
	array_foreach_elem(&set->prompt_clients, glob) {
		if (wildcard_match_icase(id_name, glob))
			return TRUE;
	}
	return FALSE;
}
