/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

/* The relay stand-in of bench/count_sink.py in C, for the load case: the
   same protocol, files and options, at a small fraction of its CPU per
   message, so that the relay (on another host in production) takes as
   little as possible of the two CPUs the benchmark shares with Dovecot.
   bench/count_sink.py compiles and starts it when a C compiler is there.

   Like Postfix's smtpd and Exim, it answers pipelined commands together:
   the replies to what one read brought are written at once, when that
   input is used up. It offers PIPELINING and CHUNKING (BDAT), as both do
   by default; --no-chunking leaves CHUNKING out (the data then goes in one
   DATA after the 354).

   cc -O2 -o count_sink bench/count_sink.c
   count_sink --countfile FILE --portfile FILE [--no-chunking] */

#define _GNU_SOURCE /* memmem() */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 64
#define BUF_SIZE 65536

struct conn {
	int fd;
	int in_data;
	/* BDAT: bytes of the current chunk still to come, and whether it
	   is the LAST one */
	unsigned long long bdat_left;
	int in_bdat, bdat_last;
	size_t used, out_used;
	char buf[BUF_SIZE];
	char out[4096];
};

static volatile sig_atomic_t stop;
static int countfd;
static int chunking = 1;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void flush_replies(struct conn *c)
{
	if (c->out_used > 0 && write(c->fd, c->out, c->out_used) < 0) {
		/* the client went away: its read end shows it */
	}
	c->out_used = 0;
}

static void reply(struct conn *c, const char *text)
{
	size_t len = strlen(text);

	/* kept until the input at hand is used up (see flush_replies()) */
	if (c->out_used + len > sizeof(c->out))
		flush_replies(c);
	memcpy(c->out + c->out_used, text, len);
	c->out_used += len;
}

static void count_message(struct conn *c)
{
	if (write(countfd, ".", 1) != 1)
		perror("count_sink: write countfile");
	reply(c, "250 2.0.0 counted\r\n");
}

/* Handle what is buffered. Returns -1 when the connection is to close. */
static int process(struct conn *c)
{
	char *p, *end;
	size_t len;

	for (;;) {
		if (c->in_bdat) {
			len = c->used < c->bdat_left ? c->used : c->bdat_left;
			c->bdat_left -= len;
			c->used -= len;
			memmove(c->buf, c->buf + len, c->used);
			if (c->bdat_left > 0)
				return 0;
			c->in_bdat = 0;
			if (c->bdat_last)
				count_message(c);
			else
				reply(c, "250 2.0.0 chunk ok\r\n");
			continue;
		}
		if (c->in_data) {
			p = memmem(c->buf, c->used, "\r\n.\r\n", 5);
			if (p == NULL) {
				/* keep what may start the terminator */
				if (c->used > 4) {
					memmove(c->buf, c->buf + c->used - 4, 4);
					c->used = 4;
				}
				return 0;
			}
			end = p + 5;
			c->used -= end - c->buf;
			memmove(c->buf, end, c->used);
			c->in_data = 0;
			count_message(c);
			continue;
		}
		p = memmem(c->buf, c->used, "\r\n", 2);
		if (p == NULL)
			return c->used == sizeof(c->buf) ? -1 : 0;
		len = p - c->buf;
		if (len >= 4 && strncasecmp(c->buf, "EHLO", 4) == 0) {
			/* as Postfix and Exim offer by default: a client
			   sends MAIL, RCPT and BDAT LAST with the message (or
			   MAIL, RCPT and DATA) in one go */
			reply(c, chunking ?
			      "250-count-sink\r\n250-PIPELINING\r\n"
			      "250 CHUNKING\r\n" :
			      "250-count-sink\r\n250 PIPELINING\r\n");
		} else if (len >= 4 && strncasecmp(c->buf, "HELO", 4) == 0) {
			reply(c, "250 count-sink\r\n");
		} else if (len >= 4 && strncasecmp(c->buf, "DATA", 4) == 0) {
			c->in_data = 1;
			/* the CRLF that ended the DATA line may be the one
			   before the terminating dot (an empty message) */
			c->used -= len;
			memmove(c->buf, c->buf + len, c->used);
			reply(c, "354 go ahead\r\n");
			continue;
		} else if (chunking && len >= 5 &&
			   strncasecmp(c->buf, "BDAT ", 5) == 0) {
			char *size_end;

			c->buf[len] = '\0';
			c->bdat_left = strtoull(c->buf + 5, &size_end, 10);
			c->bdat_last = strncasecmp(size_end, " LAST", 5) == 0;
			c->in_bdat = 1;
		} else if (len >= 4 && strncasecmp(c->buf, "QUIT", 4) == 0) {
			reply(c, "221 2.0.0 bye\r\n");
			return -1;
		} else {
			/* MAIL, RCPT, RSET, NOOP */
			reply(c, "250 2.0.0 ok\r\n");
		}
		c->used -= len + 2;
		memmove(c->buf, c->buf + len + 2, c->used);
	}
}

static int write_portfile(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%d", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

int main(int argc, char *argv[])
{
	const char *countfile = NULL, *portfile = NULL;
	struct epoll_event ev, events[MAX_EVENTS];
	struct sockaddr_in sin;
	socklen_t sinlen = sizeof(sin);
	struct sigaction sa;
	struct conn *c;
	int i, n, lfd, epfd, one = 1;
	ssize_t ret;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-chunking") == 0)
			chunking = 0;
		else if (i + 1 == argc)
			break;
		else if (strcmp(argv[i], "--countfile") == 0)
			countfile = argv[++i];
		else if (strcmp(argv[i], "--portfile") == 0)
			portfile = argv[++i];
		else
			break;
	}
	if (countfile == NULL || portfile == NULL || i != argc) {
		fprintf(stderr, "usage: %s --countfile FILE --portfile FILE "
			"[--no-chunking]\n", argv[0]);
		return 2;
	}
	countfd = open(countfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (countfd < 0) {
		perror(countfile);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 128) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sinlen) < 0) {
		perror("count_sink: listen");
		return 1;
	}
	if (write_portfile(portfile, ntohs(sin.sin_port)) < 0) {
		perror(portfile);
		return 1;
	}
	epfd = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);

	while (!stop) {
		n = epoll_wait(epfd, events, MAX_EVENTS, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("count_sink: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			c = events[i].data.ptr;
			if (c == NULL) {
				int fd = accept(lfd, NULL, NULL);

				if (fd < 0)
					continue;
				c = calloc(1, sizeof(*c));
				if (c == NULL) {
					close(fd);
					continue;
				}
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
				reply(c, "220 count-sink ESMTP\r\n");
				flush_replies(c);
				continue;
			}
			ret = read(c->fd, c->buf + c->used,
				   sizeof(c->buf) - c->used);
			if (ret > 0) {
				c->used += ret;
				ret = process(c);
				flush_replies(c);
				if (ret == 0)
					continue;
			} else if (ret < 0 && errno == EINTR) {
				continue;
			}
			epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			free(c);
		}
	}
	return 0;
}
