/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "doveadm-readreceipt-cmds.h"
#include "doveadm-readreceipt-plugin.h"

const char *doveadm_readreceipt_plugin_version = DOVECOT_ABI_VERSION;

void doveadm_readreceipt_plugin_init(struct module *module ATTR_UNUSED)
{
	doveadm_readreceipt_cmds_register();
}

void doveadm_readreceipt_plugin_deinit(void)
{
}
