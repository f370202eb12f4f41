/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "time-util.h"
#include "mail-storage-hooks.h"
#include "readreceipt-user.h"
#include "readreceipt-storage.h"
#include "readreceipt-answer.h"
#include "readreceipt-delivery.h"
#include "readreceipt-refresh.h"
#include "readreceipt-plugin.h"

const char *readreceipt_plugin_version = DOVECOT_ABI_VERSION;

static struct mail_storage_hooks readreceipt_mail_storage_hooks = {
	.mail_user_created = readreceipt_user_created,
	.mail_namespaces_added = readreceipt_user_namespaces_added,
	.mailbox_allocated = readreceipt_mailbox_allocated,
	.mail_allocated = readreceipt_mail_allocated,
};

static struct mail_storage_hooks readreceipt_delivery_hooks = {
	.mailbox_allocated = readreceipt_delivery_mailbox_allocated,
};

void readreceipt_plugin_init(struct module *module)
{
	struct timeval now;

	/* Dovecot loads mail plugins after the process read its
	   configuration */
	i_gettimeofday(&now);
	readreceipt_config_usecs = timeval_to_usecs(&now);
	mail_storage_hooks_add(module, &readreceipt_mail_storage_hooks);
	readreceipt_answer_init();
	mail_storage_hooks_add(module, &readreceipt_delivery_hooks);
}

void readreceipt_plugin_deinit(void)
{
	readreceipt_refresh_deinit_process();
	readreceipt_answer_deinit();
	mail_storage_hooks_remove(&readreceipt_delivery_hooks);
	mail_storage_hooks_remove(&readreceipt_mail_storage_hooks);
}
