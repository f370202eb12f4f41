/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "settings-parser.h"
#include "readreceipt-settings-info.h"

/* Dovecot 2.4's config process (and doveconf) loads every module in
   $(dovecot_moduledir)/settings/ and takes the settings they declare from
   <name>_set_infos, where <name> is the file name without "lib", its
   number and ".so": lib20_readreceipt_settings.so gives
   "readreceipt_settings". <name>_version is checked against Dovecot's
   ABI. Without this module "readreceipt_mode = ..." is an unknown
   setting and Dovecot does not start. */

extern const char *readreceipt_settings_version;
extern const struct setting_parser_info *readreceipt_settings_set_infos[];

const char *readreceipt_settings_version = DOVECOT_ABI_VERSION;

const struct setting_parser_info *readreceipt_settings_set_infos[] = {
	&readreceipt_setting_parser_info,
	NULL
};
