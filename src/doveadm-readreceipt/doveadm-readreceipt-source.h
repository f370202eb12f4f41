#ifndef DOVEADM_READRECEIPT_SOURCE_H
#define DOVEADM_READRECEIPT_SOURCE_H

/* Where the value of a readreceipt_* setting came from (SPEC §2: the
   configuration, overridden per user by a userdb field of the same
   name). Pure:
   the user's value and userdb fields in, the source out. */

enum doveadm_readreceipt_source {
	/* not set: the module's default */
	DOVEADM_READRECEIPT_SOURCE_DEFAULT = 0,
	/* the configuration: plugin {} on Dovecot 2.3, a setting on 2.4 (or
	   a doveadm -o override of it) */
	DOVEADM_READRECEIPT_SOURCE_CONFIG,
	/* a userdb extra field */
	DOVEADM_READRECEIPT_SOURCE_USERDB,
};

/* value is what the user's settings hold for the setting name: the
   configuration with userdb fields already applied; NULL when it is not
   set (Dovecot 2.3), or the default (2.4). configured is FALSE when value
   is the default: on 2.4 a value that the configuration sets to the
   default cannot be told from it. userdb_fields are the user's userdb
   fields ("key=value", "key" alone meaning "key=yes", "plugin/key=value"),
   may be NULL.

   Dovecot keeps no record of which one set a setting, so the value tells:
   a userdb field of that name with the same value made it. A userdb field
   with another value lost to a command line override (doveadm -o), which
   counts as config. */
enum doveadm_readreceipt_source
doveadm_readreceipt_setting_source(const char *name, const char *value,
				   bool configured,
				   const char *const *userdb_fields);

/* "default", "config" or "userdb" */
const char *
doveadm_readreceipt_source_to_str(enum doveadm_readreceipt_source source);

#endif
