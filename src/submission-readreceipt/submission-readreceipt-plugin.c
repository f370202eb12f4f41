/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "submission-common.h"
#include "submission-readreceipt-client.h"
#include "submission-readreceipt-plugin.h"

const char *submission_readreceipt_plugin_version = DOVECOT_ABI_VERSION;
const char *submission_readreceipt_plugin_dependencies[] = {
	"readreceipt", NULL
};
const char submission_readreceipt_plugin_binary_dependency[] = "submission";

static submission_client_created_func_t *next_hook_client_created;

static void submission_readreceipt_client_created_hook(struct client **client)
{
	submission_readreceipt_client_created(*client);
	if (next_hook_client_created != NULL)
		next_hook_client_created(client);
}

void submission_readreceipt_plugin_init(struct module *module ATTR_UNUSED)
{
	next_hook_client_created = submission_client_created_hook_set(
		submission_readreceipt_client_created_hook);
}

void submission_readreceipt_plugin_deinit(void)
{
	submission_client_created_hook_set(next_hook_client_created);
}
