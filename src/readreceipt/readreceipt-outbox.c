/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "file-lock.h"
#include "file-create-locked.h"
#include "mail-user.h"
#include "write-full.h"
#include "mkdir-parents.h"
#include "mail-index.h"
#include "mail-storage-private.h"
#include "mail-storage-settings.h"
#include "mail-namespace.h"
#include "mailbox-list-private.h"
#include "readreceipt-compat.h"
#include "readreceipt-outbox.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

/* never read more of the outbox list than this: it holds one line per
   mailbox with owed receipts */
#define READRECEIPT_OUTBOX_HINT_MAX (64 * 1024)
/* how often a lock file that was replaced under us is opened again */
#define READRECEIPT_OUTBOX_LOCK_REOPEN_MAX 3

static uint32_t readreceipt_outbox_ext_id(struct mailbox *box)
{
	/* registering again returns the same id: no state of our own */
	return mail_index_ext_register(box->index, READRECEIPT_RECORD_EXT_NAME,
				       0, sizeof(struct readreceipt_record),
				       sizeof(uint32_t));
}

static void
readreceipt_outbox_lookup(struct mail_index_view *view, uint32_t ext_id,
			  uint32_t seq, struct readreceipt_record *rec_r)
{
	const void *data;
	bool expunged;

	i_zero(rec_r);
	mail_index_lookup_ext(view, seq, ext_id, &data, &expunged);
	if (data != NULL)
		memcpy(rec_r, data, sizeof(*rec_r));
}

void readreceipt_outbox_get(struct mailbox_transaction_context *t,
			    uint32_t seq, struct readreceipt_record *rec_r)
{
	readreceipt_outbox_lookup(t->view, readreceipt_outbox_ext_id(t->box),
				  seq, rec_r);
}

struct mail_index_view *readreceipt_outbox_view_fresh(struct mailbox *box)
{
	/* what other processes committed: a failed refresh leaves the view
	   as it was, which the index' own sync corrects later */
	(void)mail_index_refresh(box->index);
	return mail_index_view_open(box->index);
}

int readreceipt_outbox_view_get(struct mail_index_view *view,
				struct mailbox *box, uint32_t uid,
				struct readreceipt_record *rec_r)
{
	uint32_t seq;

	i_zero(rec_r);
	if (!mail_index_lookup_seq(view, uid, &seq))
		return 0;
	readreceipt_outbox_lookup(view, readreceipt_outbox_ext_id(box), seq,
				  rec_r);
	return 1;
}

int readreceipt_outbox_get_fresh(struct mailbox *box, uint32_t uid,
				 struct readreceipt_record *rec_r)
{
	struct mail_index_view *view;
	int ret;

	view = readreceipt_outbox_view_fresh(box);
	ret = readreceipt_outbox_view_get(view, box, uid, rec_r);
	mail_index_view_close(&view);
	return ret;
}

void readreceipt_outbox_set(struct mailbox_transaction_context *t,
			    uint32_t seq, const struct readreceipt_record *rec)
{
	mail_index_update_ext(t->itrans, seq,
			      readreceipt_outbox_ext_id(t->box), rec, NULL);
}

void readreceipt_outbox_owed_uids(struct mailbox *box,
				  ARRAY_TYPE(uint32_t) *uids)
{
	uint32_t ext_id = readreceipt_outbox_ext_id(box);
	struct mail_index_view *view;
	struct readreceipt_record rec;
	uint32_t seq, count, uid;

	/* the committed index, not the mailbox' view: no mailbox sync */
	(void)mail_index_refresh(box->index);
	view = mail_index_view_open(box->index);
	count = mail_index_view_get_messages_count(view);
	for (seq = 1; seq <= count; seq++) {
		const void *data;
		bool expunged;

		mail_index_lookup_ext(view, seq, ext_id, &data, &expunged);
		if (data == NULL) {
			/* the extension is not in the index: no message
			   of this mailbox ever had a record */
			break;
		}
		memcpy(&rec, data, sizeof(rec));
		if (readreceipt_record_is_owed(&rec)) {
			mail_index_lookup_uid(view, seq, &uid);
			array_push_back(uids, &uid);
		}
	}
	mail_index_view_close(&view);
}

int readreceipt_outbox_dir(struct mail_user *user, const char **dir_r,
			   const char **error_r)
{
	struct mail_namespace *ns =
		mail_namespace_find_inbox(user->namespaces);
	const char *dir;

	/* beside the INBOX index, so every backend that serves the user
	   sees the same list */
	if (ns != NULL &&
	    mailbox_list_get_root_path(ns->list, MAILBOX_LIST_PATH_TYPE_INDEX,
				       &dir)) {
		*dir_r = dir;
		return 0;
	}
	if (mail_user_get_home(user, &dir) > 0) {
		*dir_r = dir;
		return 0;
	}
	*error_r = "No index or home directory to keep the receipt outbox in";
	return -1;
}

int readreceipt_outbox_mkdir_parent(const char *path, const char **error_r)
{
	const char *dir = t_strndup(path, strrchr(path, '/') - path);

	if (mkdir_parents(dir, 0700) < 0 && errno != EEXIST) {
		*error_r = t_strdup_printf("mkdir(%s) failed: %m", dir);
		return -1;
	}
	return 0;
}

/* Open path, creating it and its missing parent directories. Returns
   the fd, or -1 with *error_r. */
static int
readreceipt_outbox_open_create(const char *path, int flags,
			       const char **error_r)
{
	int fd;

	fd = open(path, flags | O_CREAT, 0600);
	if (fd == -1 && errno == ENOENT) {
		if (readreceipt_outbox_mkdir_parent(path, error_r) < 0)
			return -1;
		fd = open(path, flags | O_CREAT, 0600);
	}
	if (fd == -1)
		*error_r = t_strdup_printf("open(%s) failed: %m", path);
	return fd;
}

/* TRUE when fd is still the file at path: someone (a cleanup of the
   volatile directory, an older version of this module, which unlinked the
   file after each lock) may have removed it between open() and the lock,
   and a lock on a removed file excludes no one who opens the path now. */
static int
readreceipt_outbox_lock_is_current(int fd, const char *path,
				   const char **error_r)
{
	struct stat st_fd, st_path;

	if (fstat(fd, &st_fd) < 0) {
		*error_r = t_strdup_printf("fstat(%s) failed: %m", path);
		return -1;
	}
	if (stat(path, &st_path) < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = t_strdup_printf("stat(%s) failed: %m", path);
		return -1;
	}
	return st_fd.st_ino == st_path.st_ino &&
		st_fd.st_dev == st_path.st_dev ? 1 : 0;
}

/* Lock the file at path, which stays in place between locks: creating and
   unlinking a lock file each time (Dovecot's file_create_locked()) costs
   an inode allocation and a directory update per decision and per
   receipt. Returns 1, 0 on timeout, -1 on error. */
static int
readreceipt_outbox_lock_path(const char *path,
			     const struct mail_storage_settings *mail_set,
			     struct file_lock **lock_r, const char **error_r)
{
	struct file_create_settings create_set;
	struct file_lock_settings lock_set;
	unsigned int i;
	int fd, ret;

	if (mail_set->parsed_lock_method == FILE_LOCK_METHOD_DOTLOCK) {
		/* a dotlock is a file of its own, created and removed by
		   Dovecot as before */
		i_zero(&create_set);
		create_set.lock_timeout_secs =
			READRECEIPT_OUTBOX_LOCK_TIMEOUT_SECS;
		create_set.lock_settings.lock_method =
			FILE_LOCK_METHOD_DOTLOCK;
		create_set.mkdir_mode = 0700;
		ret = mail_storage_lock_create(path, &create_set, mail_set,
					       lock_r, error_r);
		return ret < 0 ? -1 : (ret == 0 ? 0 : 1);
	}

	i_zero(&lock_set);
	lock_set.lock_method = mail_set->parsed_lock_method;
	/* closing the fd releases the lock */
	lock_set.close_on_free = TRUE;
	for (i = 0; i < READRECEIPT_OUTBOX_LOCK_REOPEN_MAX; i++) {
		fd = readreceipt_outbox_open_create(path, O_RDWR, error_r);
		if (fd == -1)
			return -1;
		/* uncontended, a lock without a timeout costs no alarm()
		   pair */
		ret = file_try_lock(fd, path, F_WRLCK, &lock_set, lock_r,
				    error_r);
		if (ret == 0) {
			ret = file_wait_lock(fd, path, F_WRLCK, &lock_set,
				READRECEIPT_OUTBOX_LOCK_TIMEOUT_SECS,
				lock_r, error_r);
		}
		if (ret <= 0) {
			i_close_fd(&fd);
			return ret;
		}
		ret = readreceipt_outbox_lock_is_current(fd, path, error_r);
		if (ret > 0)
			return 1;
		/* closes fd */
		file_lock_free(lock_r);
		if (ret < 0)
			return -1;
	}
	*error_r = t_strdup_printf("%s was replaced %u times while locking it",
				   path, READRECEIPT_OUTBOX_LOCK_REOPEN_MAX);
	return -1;
}

int readreceipt_outbox_lock(struct mail_user *user, struct file_lock **lock_r,
			    const char **error_r)
{
	struct mail_namespace *ns =
		mail_namespace_find_inbox(user->namespaces);
	const struct mail_storage_settings *mail_set;
	const char *home, *dir;
	int ret;

	*lock_r = NULL;
	if (ns != NULL && mail_user_get_home(user, &home) > 0) {
		/* where Dovecot keeps the user's lock files
		   (mail_user_lock_file_create()) */
		dir = readreceipt_compat_list_volatile_dir(ns->list);
		return readreceipt_outbox_lock_path(
			t_strconcat(dir != NULL ? dir : home, "/",
				    READRECEIPT_OUTBOX_LOCK_FNAME, NULL),
			ns->list->mail_set, lock_r, error_r);
	}

	/* no home directory: beside the INBOX index */
	if (readreceipt_outbox_dir(user, &dir, error_r) < 0)
		return -1;
	if (readreceipt_compat_mail_storage_settings_get(user, &mail_set,
							 error_r) < 0)
		return -1;
	ret = readreceipt_outbox_lock_path(
		t_strconcat(dir, "/", READRECEIPT_OUTBOX_LOCK_FNAME, NULL),
		mail_set, lock_r, error_r);
	readreceipt_compat_mail_storage_settings_free(&mail_set);
	return ret;
}

void readreceipt_outbox_unlock(struct file_lock **lock)
{
	/* a dotlock is deleted, an fcntl or flock lock is released by
	   closing its fd */
	if (*lock != NULL)
		file_lock_free(lock);
}

int readreceipt_outbox_write_file(const char *path, const void *data,
				  size_t size, const char **error_r)
{
	const char *tmp_path = t_strconcat(path, ".tmp", NULL);
	int fd;

	/* a reader sees the old file or the new one, never a part */
	fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1) {
		*error_r = t_strdup_printf("open(%s) failed: %m", tmp_path);
		return -1;
	}
	if (write_full(fd, data, size) < 0) {
		*error_r = t_strdup_printf("write(%s) failed: %m", tmp_path);
		i_close_fd(&fd);
		i_unlink(tmp_path);
		return -1;
	}
	i_close_fd(&fd);
	if (rename(tmp_path, path) < 0) {
		*error_r = t_strdup_printf("rename(%s, %s) failed: %m",
					   tmp_path, path);
		i_unlink(tmp_path);
		return -1;
	}
	return 0;
}

int readreceipt_outbox_append_file(const char *path, const void *data,
				   size_t size, const char **error_r)
{
	int fd;

	/* one short write with O_APPEND: a reader sees the line whole or
	   not at all */
	fd = readreceipt_outbox_open_create(path, O_WRONLY | O_APPEND, error_r);
	if (fd == -1)
		return -1;
	if (write_full(fd, data, size) < 0) {
		*error_r = t_strdup_printf("write(%s) failed: %m", path);
		i_close_fd(&fd);
		return -1;
	}
	i_close_fd(&fd);
	return 0;
}

static const char *
readreceipt_outbox_hint_path(struct mail_user *user, const char **error_r)
{
	const char *dir;

	if (readreceipt_outbox_dir(user, &dir, error_r) < 0)
		return NULL;
	return t_strconcat(dir, "/", READRECEIPT_OUTBOX_HINT_FNAME, NULL);
}

int readreceipt_outbox_read_file(const char *path, size_t max_size,
				 const char **data_r, struct stat *st_r,
				 const char **error_r)
{
	ssize_t ret;
	size_t size;
	char *buf;
	int fd;

	i_zero(st_r);
	*data_r = "";
	fd = open(path, O_RDONLY);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		*error_r = t_strdup_printf("open(%s) failed: %m", path);
		return -1;
	}
	if (fstat(fd, st_r) < 0) {
		*error_r = t_strdup_printf("fstat(%s) failed: %m", path);
		i_close_fd(&fd);
		return -1;
	}
	size = I_MIN((size_t)st_r->st_size, max_size);
	buf = t_malloc_no0(size + 1);
	ret = size == 0 ? 0 : read(fd, buf, size);
	i_close_fd(&fd);
	if (ret < 0) {
		*error_r = t_strdup_printf("read(%s) failed: %m", path);
		return -1;
	}
	buf[ret] = '\0';
	*data_r = buf;
	return 1;
}

static int
readreceipt_outbox_hint_read_path(const char *path,
				  ARRAY_TYPE(guid_128) *guids,
				  const char **error_r)
{
	const char *const *lines, *data;
	guid_128_t guid;
	struct stat st;

	if (readreceipt_outbox_read_file(path, READRECEIPT_OUTBOX_HINT_MAX,
					 &data, &st, error_r) < 0)
		return -1;
	for (lines = t_strsplit(data, "\n"); *lines != NULL; lines++) {
		/* a damaged line names no mailbox: skipped */
		if (guid_128_from_string(*lines, guid) == 0)
			array_push_back(guids, &guid);
	}
	return 0;
}

int readreceipt_outbox_hint_read(struct mail_user *user,
				 ARRAY_TYPE(guid_128) *guids,
				 const char **error_r)
{
	const char *path = readreceipt_outbox_hint_path(user, error_r);

	if (path == NULL)
		return -1;
	return readreceipt_outbox_hint_read_path(path, guids, error_r);
}

static bool
readreceipt_outbox_hint_has(const ARRAY_TYPE(guid_128) *guids,
			    const guid_128_t guid)
{
	const guid_128_t *g;

	array_foreach(guids, g) {
		if (guid_128_equals(*g, guid))
			return TRUE;
	}
	return FALSE;
}

int readreceipt_outbox_hint_add(struct mailbox *box, const char **error_r)
{
	struct mailbox_metadata metadata;
	ARRAY_TYPE(guid_128) guids;
	const char *path, *line;

	if (mailbox_get_metadata(box, MAILBOX_METADATA_GUID, &metadata) < 0) {
		*error_r = mailbox_get_last_internal_error(box, NULL);
		return -1;
	}
	path = readreceipt_outbox_hint_path(box->storage->user, error_r);
	if (path == NULL)
		return -1;
	t_array_init(&guids, 8);
	if (readreceipt_outbox_hint_read_path(path, &guids, error_r) < 0)
		return -1;
	if (readreceipt_outbox_hint_has(&guids, metadata.guid))
		return 0;

	line = t_strconcat(guid_128_to_string(metadata.guid), "\n", NULL);
	return readreceipt_outbox_append_file(path, line, strlen(line),
					      error_r);
}

int readreceipt_outbox_hint_remove(struct mail_user *user,
				   const guid_128_t guid,
				   const char **error_r)
{
	ARRAY_TYPE(guid_128) guids;
	const guid_128_t *g;
	const char *path;
	string_t *str;

	path = readreceipt_outbox_hint_path(user, error_r);
	if (path == NULL)
		return -1;
	t_array_init(&guids, 8);
	if (readreceipt_outbox_hint_read_path(path, &guids, error_r) < 0)
		return -1;
	if (!readreceipt_outbox_hint_has(&guids, guid))
		return 0;

	str = t_str_new(256);
	array_foreach(&guids, g) {
		if (!guid_128_equals(*g, guid))
			str_printfa(str, "%s\n", guid_128_to_string(*g));
	}
	if (str_len(str) == 0) {
		if (unlink(path) < 0 && errno != ENOENT) {
			*error_r = t_strdup_printf("unlink(%s) failed: %m",
						   path);
			return -1;
		}
		return 0;
	}
	return readreceipt_outbox_write_file(path, str_data(str), str_len(str),
					     error_r);
}
