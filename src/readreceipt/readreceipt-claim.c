/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "file-lock.h"
#include "write-full.h"
#include "mkdir-parents.h"
#include "mail-user.h"
#include "mail-namespace.h"
#include "mailbox-list.h"
#include "readreceipt-claim.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#define READRECEIPT_RATE_WINDOW_SECS 3600
/* never read more than this of the counter file */
#define READRECEIPT_RATE_FILE_MAX (256 * 1024)

struct readreceipt_claim {
	char *dir;
	int fd;
	struct file_lock *lock;

	/* the counter file's send times, read once per claim: the check
	   before a send and the count after it see the same file, since
	   only the lock holder writes it */
	ARRAY_TYPE(uint64_t) rate_times;
	bool rate_read;
};

static int
readreceipt_claim_dir(struct mail_user *user, const char **dir_r,
		      const char **error_r)
{
	struct mail_namespace *ns =
		mail_namespace_find_inbox(user->namespaces);
	const char *dir;

	/* The lock and the counter belong to the user's mail storage, so
	   every backend that serves the user sees the same ones. */
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
	*error_r = "No index directory or home directory to keep the "
		"receipt lock in";
	return -1;
}

int readreceipt_claim_lock(struct mail_user *user, unsigned int timeout_secs,
			   struct readreceipt_claim **claim_r,
			   const char **error_r)
{
	struct file_lock_settings lock_set;
	struct readreceipt_claim *claim;
	struct file_lock *lock;
	const char *dir, *path, *error;
	int fd, ret;

	if (readreceipt_claim_dir(user, &dir, error_r) < 0)
		return -1;
	path = t_strconcat(dir, "/", READRECEIPT_CLAIM_LOCK_FNAME, NULL);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd == -1 && errno == ENOENT) {
		/* a new user whose index root does not exist yet */
		if (mkdir_parents(dir, 0700) < 0 && errno != EEXIST) {
			*error_r = t_strdup_printf("mkdir(%s) failed: %m", dir);
			return -1;
		}
		fd = open(path, O_RDWR | O_CREAT, 0600);
	}
	if (fd == -1) {
		*error_r = t_strdup_printf("open(%s) failed: %m", path);
		return -1;
	}

	i_zero(&lock_set);
	lock_set.lock_method = FILE_LOCK_METHOD_FCNTL;
	ret = file_wait_lock(fd, path, F_WRLCK, &lock_set, timeout_secs,
			     &lock, &error);
	if (ret <= 0) {
		*error_r = ret == 0 ?
			t_strdup_printf("Timed out after %u seconds waiting "
					"for %s", timeout_secs, path) : error;
		i_close_fd(&fd);
		return ret;
	}
	claim = i_new(struct readreceipt_claim, 1);
	claim->dir = i_strdup(dir);
	claim->fd = fd;
	claim->lock = lock;
	*claim_r = claim;
	return 1;
}

void readreceipt_claim_unlock(struct readreceipt_claim **_claim)
{
	struct readreceipt_claim *claim = *_claim;

	*_claim = NULL;
	if (array_is_created(&claim->rate_times))
		array_free(&claim->rate_times);
	file_lock_free(&claim->lock);
	i_close_fd(&claim->fd);
	i_free(claim->dir);
	i_free(claim);
}

/* Read every send time in the counter file, once per claim. A missing or
   damaged file counts as no sends: the counter protects against floods,
   it must never stop receipts for good. */
static void readreceipt_rate_read(struct readreceipt_claim *claim)
{
	const char *path = t_strconcat(claim->dir, "/",
				       READRECEIPT_CLAIM_RATE_FNAME, NULL);
	const char *const *lines;
	struct stat st;
	size_t size;
	ssize_t ret;
	uint64_t t;
	char *buf;
	int fd;

	if (claim->rate_read)
		return;
	claim->rate_read = TRUE;
	i_array_init(&claim->rate_times, 16);

	fd = open(path, O_RDONLY);
	if (fd == -1)
		return;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		i_close_fd(&fd);
		return;
	}
	size = I_MIN((size_t)st.st_size, READRECEIPT_RATE_FILE_MAX);
	buf = t_malloc_no0(size + 1);
	ret = read(fd, buf, size);
	i_close_fd(&fd);
	if (ret <= 0)
		return;
	buf[ret] = '\0';
	for (lines = t_strsplit(buf, "\n"); *lines != NULL; lines++) {
		if (str_to_uint64(*lines, &t) == 0)
			array_push_back(&claim->rate_times, &t);
	}
}

/* The send times of the hour before now. */
static void
readreceipt_rate_window(struct readreceipt_claim *claim, time_t now,
			ARRAY_TYPE(uint64_t) *times)
{
	uint64_t t;

	readreceipt_rate_read(claim);
	array_foreach_elem(&claim->rate_times, t) {
		if (t + READRECEIPT_RATE_WINDOW_SECS > (uint64_t)now &&
		    t <= (uint64_t)now)
			array_push_back(times, &t);
	}
}

int readreceipt_claim_rate_check(struct readreceipt_claim *claim,
				 unsigned int max_per_hour, time_t now,
				 const char **error_r ATTR_UNUSED)
{
	ARRAY_TYPE(uint64_t) times;

	if (max_per_hour == 0)
		return 1;
	t_array_init(&times, 16);
	readreceipt_rate_window(claim, now, &times);
	return array_count(&times) < max_per_hour ? 1 : 0;
}

int readreceipt_claim_rate_add(struct readreceipt_claim *claim,
			       unsigned int max_per_hour, time_t now,
			       const char **error_r)
{
	ARRAY_TYPE(uint64_t) times;
	const char *path, *tmp_path;
	string_t *str;
	uint64_t t;
	unsigned int i, count, first;
	int fd;

	if (max_per_hour == 0)
		return 0;
	t_array_init(&times, 16);
	readreceipt_rate_window(claim, now, &times);
	t = now;
	array_push_back(&times, &t);

	/* keep only as many entries as the limit needs */
	count = array_count(&times);
	first = count > max_per_hour ? count - max_per_hour : 0;
	str = t_str_new(count * 12);
	for (i = first; i < count; i++)
		str_printfa(str, "%llu\n", (unsigned long long)
			    *array_idx(&times, i));

	path = t_strconcat(claim->dir, "/", READRECEIPT_CLAIM_RATE_FNAME, NULL);
	tmp_path = t_strconcat(path, ".tmp", NULL);
	fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1) {
		*error_r = t_strdup_printf("open(%s) failed: %m", tmp_path);
		return -1;
	}
	if (write_full(fd, str_data(str), str_len(str)) < 0) {
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
