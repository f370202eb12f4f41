/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "imap-common.h"
#include "str-sanitize.h"
#include "imap-arg.h"
#include "imap-parser.h"
#include "imap-commands.h"
#include "imap-feature.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"
#include "readreceipt-user.h"
#include "readreceipt-client.h"
#include "imap-readreceipt-client.h"

#define IMAP_READRECEIPT_CLIENT_CONTEXT(obj) \
	MODULE_CONTEXT(obj, imap_readreceipt_client_module)

/* Only for clients of users that have this module loaded. */
struct imap_readreceipt_client {
	union imap_module_context module_ctx;

	/* XREADRECEIPT is in the client's capabilities: the user has the
	   storage module and receipts are not disabled for them */
	bool advertised;
};

static MODULE_CONTEXT_DEFINE_INIT(imap_readreceipt_client_module,
				  &imap_module_register);

static struct module *imap_readreceipt_module;
static imap_client_created_func_t *next_hook_client_created;

/* The storage module's user context of a client whose user has this
   module loaded, else NULL. *advertised_r: XREADRECEIPT was offered. */
static struct readreceipt_user *
imap_readreceipt_client_ruser(struct client *client, bool *advertised_r)
{
	struct imap_readreceipt_client *rclient =
		IMAP_READRECEIPT_CLIENT_CONTEXT(client);

	*advertised_r = rclient != NULL && rclient->advertised;
	if (rclient == NULL)
		return NULL;
	return readreceipt_user_get(client->user);
}

static READRECEIPT_COMPAT_ENABLE_RET
imap_readreceipt_client_enable(struct client *client)
{
	struct readreceipt_user *ruser;
	bool advertised;

	/* The feature is registered for the whole process, so ENABLE
	   reaches here also for users who were not offered the capability:
	   for them nothing changes. */
	ruser = imap_readreceipt_client_ruser(client, &advertised);
	if (advertised) {
		ruser->session_can_prompt = TRUE;
		e_debug(ruser->event, "Client enabled "
			IMAP_READRECEIPT_CAPABILITY
			": it shows its own receipt prompt");
	}
	READRECEIPT_COMPAT_ENABLE_RETURN(advertised);
}

/* The value of the "name" field of ID's parameter list; NULL for ID NIL,
   no such field or a NIL value. */
static const char *imap_readreceipt_id_name(const struct imap_arg *args)
{
	const struct imap_arg *list;
	const char *key, *value;

	if (!imap_arg_get_list(&args[0], &list))
		return NULL;
	for (; !IMAP_ARG_IS_EOL(&list[0]) && !IMAP_ARG_IS_EOL(&list[1]);
	     list += 2) {
		if (!imap_arg_get_string(&list[0], &key))
			return NULL;
		if (strcasecmp(key, "name") == 0) {
			if (!imap_arg_get_nstring(&list[1], &value))
				return NULL;
			return value;
		}
	}
	return NULL;
}

static void
imap_readreceipt_id_finished(struct client_command_context *cmd,
			     struct readreceipt_user *ruser)
{
	const struct imap_arg *args;
	const char *name;

	/* The tagged reply is sent when ID is done; before that (waiting
	   for a literal) there is nothing to look at yet. Dovecot keeps no ID
	   parameters on the client, but an ID that was answered OK has all
	   its arguments in the command's parser: reading them again returns
	   the same list and consumes no input. */
	if (cmd->tagline_reply == NULL ||
	    !str_begins_with(cmd->tagline_reply, "OK") ||
	    imap_parser_read_args(cmd->parser, 0, 0, &args) < 0)
		return;

	name = imap_readreceipt_id_name(args);
	if (!readreceipt_client_shows_prompt(ruser->set, name))
		return;
	ruser->session_can_prompt = TRUE;
	e_debug(ruser->event, "IMAP ID name \"%s\" matches "
		"readreceipt_prompt_clients: the client shows its own "
		"receipt prompt", str_sanitize(name, 64));
}

static enum readreceipt_imap_command
imap_readreceipt_command_kind(const char *name)
{
	if (strcasecmp(name, "FETCH") == 0 ||
	    strcasecmp(name, "UID FETCH") == 0)
		return READRECEIPT_IMAP_COMMAND_FETCH;
	if (strcasecmp(name, "STORE") == 0 ||
	    strcasecmp(name, "UID STORE") == 0)
		return READRECEIPT_IMAP_COMMAND_STORE;
	return READRECEIPT_IMAP_COMMAND_OTHER;
}

/* Called each time the command runs, also when it continues after waiting
   for output or input, and when it is cancelled at disconnect: a \Seen
   change committed by the command always sees its name. */
static void imap_readreceipt_command_pre(struct client_command_context *cmd)
{
	struct readreceipt_user *ruser;
	bool advertised;

	ruser = imap_readreceipt_client_ruser(cmd->client, &advertised);
	if (ruser != NULL)
		ruser->imap_command = imap_readreceipt_command_kind(cmd->name);
}

static void imap_readreceipt_command_post(struct client_command_context *cmd)
{
	struct readreceipt_user *ruser;
	bool advertised;

	ruser = imap_readreceipt_client_ruser(cmd->client, &advertised);
	if (ruser == NULL)
		return;
	ruser->imap_command = READRECEIPT_IMAP_COMMAND_UNKNOWN;
	/* a client's prompt matters only where receipts are on */
	if (advertised && strcasecmp(cmd->name, "ID") == 0)
		imap_readreceipt_id_finished(cmd, ruser);
}

static void imap_readreceipt_client_created(struct client **clientp)
{
	struct client *client = *clientp;
	struct imap_readreceipt_client *rclient;
	struct readreceipt_user *ruser;

	ruser = readreceipt_user_get(client->user);
	if (ruser != NULL &&
	    mail_user_is_plugin_loaded(client->user, imap_readreceipt_module)) {
		rclient = p_new(client->pool, struct imap_readreceipt_client, 1);
		/* Offered only where receipts can happen at all: with mode
		   disabled (or invalid settings, which disable it) a client
		   has no receipt to prompt for. */
		rclient->advertised =
			ruser->set->mode != READRECEIPT_MODE_DISABLED;
		if (rclient->advertised)
			client_add_capability(client,
					      IMAP_READRECEIPT_CAPABILITY);
		MODULE_CONTEXT_SET(client, imap_readreceipt_client_module,
				   rclient);
	}

	if (next_hook_client_created != NULL)
		next_hook_client_created(clientp);
}

void imap_readreceipt_client_init(struct module *module)
{
	imap_readreceipt_module = module;
	/* Dovecot 2.3 cannot unregister a feature; the process ends soon
	   after the module is unloaded, and no client enables it then. */
	(void)imap_feature_register(IMAP_READRECEIPT_CAPABILITY, 0,
				    imap_readreceipt_client_enable);
	command_hook_register(imap_readreceipt_command_pre,
			      imap_readreceipt_command_post);
	next_hook_client_created =
		imap_client_created_hook_set(imap_readreceipt_client_created);
}

void imap_readreceipt_client_deinit(void)
{
	imap_client_created_hook_set(next_hook_client_created);
	command_hook_unregister(imap_readreceipt_command_pre,
				imap_readreceipt_command_post);
}
