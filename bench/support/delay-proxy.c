// A TCP proxy that delays every byte by a fixed time in each direction: a network between the
// sink and the target for bench/sink.ts, where this machine has no qdisc to add latency
// (tc netem is not in its kernel). Single-threaded, epoll, a few microseconds of CPU per chunk,
// so the client and the server keep the machine's CPU as without it.
//
//   delay-proxy LISTEN_PORT TARGET_PORT ONE_WAY_DELAY_US     (both on 127.0.0.1)
//
// Prints "ready" on stdout once it accepts connections. Each chunk read from one side is
// written to the other side no earlier than its read time + the delay, in order; a close is
// passed on after the data before it. Built by the bench with the system's C compiler.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 1024
#define READ_BYTES 65536

struct chunk {
  struct chunk *next;
  uint64_t due_ns;
  size_t len, off;
  char data[];
};

struct dir {
  struct chunk *head, *tail;
  int eof; // the reading side closed: shut the writing side down once drained
};

struct pair {
  int fd[2];     // 0 = client, 1 = target
  struct dir d[2]; // d[i] carries bytes read from fd[i] to fd[1 - i]
};

static struct pair *pairs[MAX_PAIRS];
static int top; // slots below this may be in use
static uint64_t delay_ns;
static int ep;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void close_pair(int slot) {
  struct pair *p = pairs[slot];
  for (int i = 0; i < 2; i++) {
    close(p->fd[i]);
    for (struct chunk *c = p->d[i].head, *n; c; c = n) {
      n = c->next;
      free(c);
    }
  }
  free(p);
  pairs[slot] = NULL;
}

static void accept_one(int lfd, int target_port) {
  int cfd = accept(lfd, NULL, NULL);
  if (cfd < 0) return;
  int slot = 0;
  while (slot < MAX_PAIRS && pairs[slot]) slot++;
  int tfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(target_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (slot == MAX_PAIRS || tfd < 0 || connect(tfd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(cfd);
    if (tfd >= 0) close(tfd);
    return;
  }
  struct pair *p = calloc(1, sizeof *p);
  p->fd[0] = cfd;
  p->fd[1] = tfd;
  pairs[slot] = p;
  if (slot >= top) top = slot + 1;
  for (int i = 0; i < 2; i++) {
    nonblocking(p->fd[i]);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)slot << 1) | (uint64_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, p->fd[i], &ev);
  }
}

// Reads what fd[side] has into timed chunks. Returns -1 when the pair must close.
static int read_side(struct pair *p, int side) {
  struct dir *d = &p->d[side];
  for (;;) {
    char buf[READ_BYTES];
    ssize_t n = read(p->fd[side], buf, sizeof buf);
    if (n > 0) {
      struct chunk *c = malloc(sizeof *c + (size_t)n);
      c->next = NULL;
      c->due_ns = now_ns() + delay_ns;
      c->len = (size_t)n;
      c->off = 0;
      memcpy(c->data, buf, (size_t)n);
      if (d->tail) d->tail->next = c;
      else d->head = c;
      d->tail = c;
      continue;
    }
    if (n == 0) {
      d->eof = 1;
      epoll_ctl(ep, EPOLL_CTL_DEL, p->fd[side], NULL);
      return 0;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  }
}

// Writes the chunks that are due; returns -1 on a write error, else 0.
static int flush_dir(struct pair *p, int side, uint64_t now) {
  struct dir *d = &p->d[side];
  int out = p->fd[1 - side];
  while (d->head && d->head->due_ns <= now) {
    struct chunk *c = d->head;
    ssize_t n = write(out, c->data + c->off, c->len - c->off);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    c->off += (size_t)n;
    if (c->off < c->len) return 0;
    d->head = c->next;
    if (!d->head) d->tail = NULL;
    free(c);
  }
  if (!d->head && d->eof == 1) {
    shutdown(out, SHUT_WR);
    d->eof = 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s LISTEN_PORT TARGET_PORT ONE_WAY_DELAY_US\n", argv[0]);
    return 2;
  }
  int listen_port = atoi(argv[1]), target_port = atoi(argv[2]);
  delay_ns = (uint64_t)atoll(argv[3]) * 1000u;
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_TIMERSLACK, 1UL); // wake at the due time, not up to 50 us later

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(listen_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(lfd, 128) < 0) die("listen");
  ep = epoll_create1(0);
  struct epoll_event lev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  printf("ready\n");
  fflush(stdout);

  for (;;) {
    // Sleep until the earliest chunk is due (or something arrives).
    uint64_t now = now_ns(), next = UINT64_MAX;
    for (int s = 0; s < top; s++) {
      if (!pairs[s]) continue;
      for (int i = 0; i < 2; i++)
        if (pairs[s]->d[i].head && pairs[s]->d[i].head->due_ns < next) next = pairs[s]->d[i].head->due_ns;
    }
    struct timespec wait = {0, 0}, *timeout = NULL;
    if (next != UINT64_MAX) {
      uint64_t w = next > now ? next - now : 0;
      wait.tv_sec = (time_t)(w / 1000000000u);
      wait.tv_nsec = (long)(w % 1000000000u);
      timeout = &wait;
    }
    struct epoll_event evs[64];
    int n = epoll_pwait2(ep, evs, 64, timeout, NULL);
    if (n < 0 && errno != EINTR) die("epoll_pwait2");
    for (int k = 0; k < n; k++) {
      if (evs[k].data.u64 == UINT64_MAX) {
        accept_one(lfd, target_port);
        continue;
      }
      int slot = (int)(evs[k].data.u64 >> 1), side = (int)(evs[k].data.u64 & 1);
      if (pairs[slot] && read_side(pairs[slot], side) < 0) close_pair(slot);
    }
    now = now_ns();
    for (int s = 0; s < top; s++) {
      struct pair *p = pairs[s];
      if (!p) continue;
      if (flush_dir(p, 0, now) < 0 || flush_dir(p, 1, now) < 0 || (p->d[0].eof == 2 && p->d[1].eof == 2)) close_pair(s);
    }
  }
}
