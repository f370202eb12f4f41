#ifndef DOVEADM_READRECEIPT_SOURCE_H
#define DOVEADM_READRECEIPT_SOURCE_H

/* Where the value of a readreceipt_* setting came from (SPEC §2: plugin {},
   overridden per user by a userdb extra field of the same name). Pure:
   the user's value and userdb fields in, the source out. */

enum doveadm_readreceipt_source {
	/* not set: the module's default */
	DOVEADM_READRECEIPT_SOURCE_DEFAULT = 0,
	/* plugin {} (or a -o override of it) */
	DOVEADM_READRECEIPT_SOURCE_PLUGIN,
	/* a userdb extra field */
	DOVEADM_READRECEIPT_SOURCE_USERDB,
};

/* value is what the user's settings hold for the setting name: plugin {}
   with userdb fields already applied, NULL when it is not set.
   userdb_fields are the user's userdb fields ("key=value", "key" alone
   meaning "key=yes", "plugin/key=value"), may be NULL.

   Dovecot 2.3 keeps no record of which one set a plugin setting, so the
   value tells: a userdb field of that name with the same value made it.
   A userdb field with another value lost to a command line override
   (doveadm -o plugin/...), which counts as plugin. */
enum doveadm_readreceipt_source
doveadm_readreceipt_setting_source(const char *name, const char *value,
				   const char *const *userdb_fields);

/* "default", "plugin" or "userdb" */
const char *
doveadm_readreceipt_source_to_str(enum doveadm_readreceipt_source source);

#endif
