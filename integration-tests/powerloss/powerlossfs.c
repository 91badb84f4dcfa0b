/*
 * powerlossfs: an in-memory FUSE file system that forgets, on a simulated power cut, everything that was not
 * synced -- the part of etcd's LazyFS that PowerLossIT needs, small enough to read in one sitting.
 *
 * Every file keeps two contents: the current one (what reads see) and the synced one (what a sync of that file
 * last made durable: fsync and fdatasync both make the content as of their call, size included, the synced one
 * when they return). Every directory keeps two entry lists: the current one and the one its last fsync made
 * durable. A create, unlink, rename or mkdir is durable only once its directory is synced, as POSIX says (ext4 in
 * practice is kinder; the test should not rely on that). A power cut (the word "cut" written to the control file
 * /.powerloss) puts every directory back to its durable entries and every file back to its synced content; a file
 * no durable entry names is gone, one named but never synced is empty. Writing "sync" syncs everything (as sync(1)
 * would); reading the control file gives counters ("cuts=... dropped_bytes=...") so a test can show that a cut
 * really threw data away.
 *
 * File handles opened before a cut belong to processes that died with the power: anything still arriving on
 * them (the kernel writing back a dead process's dirty mmap pages, say) fails with EIO and changes nothing.
 * Requests of a killed process that had reached this file system are answered before the process is gone (the
 * kernel waits for them), so once the test has reaped a SIGKILLed server, only such writeback can still come.
 * Kernel caches: entry/attribute timeouts are 0 and files are opened without keep_cache, so after a cut nobody
 * reads what the kernel remembered of the lost data. Locks are left to the kernel (no lock operation), which is
 * right for processes on one machine. One mutex serialises all operations (correctness first), but a slow sync
 * lets go of it while it waits, so that reads and writes go on as they do while a disk syncs.
 *
 * Build: integration-tests/powerloss/build OUT (gcc against Debian's libfuse3-dev).
 * Run:   powerlossfs -f MOUNTPOINT   (prints "powerlossfs: ready" once the kernel talks to it); with
 *        POWERLOSS_SYNC_MICROS=N in the environment every fsync/fdatasync takes N microseconds, as on a disk
 *        (without it a sync is a memory copy, and the moments between a commit and its sync are too short to
 *        ever be cut), and what is written during those N microseconds waits for the next sync.
 */
#define FUSE_USE_VERSION 31
#include <fuse.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONTROL "/.powerloss"

struct inode;

struct entry {
  char *name;
  struct inode *node;
};

struct entries {
  struct entry *items;
  size_t count, cap;
};

struct inode {
  uint64_t ino;
  int is_dir;
  mode_t mode;
  struct timespec mtime, ctime;
  /* files */
  char *data;
  size_t size, cap;
  char *synced;
  size_t synced_size;
  int ever_synced;
  size_t dirty_lo, dirty_hi; /* bytes that may differ from synced lie in [dirty_lo, dirty_hi) */
  /* directories */
  struct entries cur, durable;
  int dir_dirty;
  /* bookkeeping: every inode ever made is in one list until a cut frees the unreachable ones */
  struct inode *next_all;
  int mark;
};

struct handle {
  struct inode *node;
  uint64_t epoch;
  char *control_text; /* for the control file: the counters, as of open */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Held by a sync from its call to its return (taken before lock): one sync at a time, so that a slow sync never
   makes a newer one's content durable and then overwrites it with its older snapshot. */
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static struct inode *root;
static struct inode *all_inodes;
static uint64_t next_ino = 2;
static uint64_t epoch = 1;
static useconds_t sync_delay_micros; /* POWERLOSS_SYNC_MICROS: how long a sync takes, as on a real disk */
static uint64_t stat_syncing; /* slow syncs called and not yet returned */
static uint64_t stat_cuts, stat_dropped_bytes, stat_dropped_files, stat_reverted_dirs, stat_syncs, stat_dirsyncs;

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fprintf(stderr, "powerlossfs: out of memory\n");
    abort();
  }
  return q;
}

static struct inode *new_inode(int is_dir, mode_t mode) {
  struct inode *n = calloc(1, sizeof *n);
  if (!n) abort();
  n->ino = next_ino++;
  n->is_dir = is_dir;
  n->mode = mode;
  clock_gettime(CLOCK_REALTIME, &n->mtime);
  n->ctime = n->mtime;
  n->next_all = all_inodes;
  all_inodes = n;
  return n;
}

static void touch(struct inode *n) {
  clock_gettime(CLOCK_REALTIME, &n->mtime);
  n->ctime = n->mtime;
}

/* ---- entry lists ---- */

static struct entry *find_entry(struct entries *e, const char *name) {
  for (size_t i = 0; i < e->count; i++) {
    if (strcmp(e->items[i].name, name) == 0) return &e->items[i];
  }
  return NULL;
}

static void add_entry(struct entries *e, const char *name, struct inode *node) {
  if (e->count == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 8;
    e->items = xrealloc(e->items, e->cap * sizeof *e->items);
  }
  e->items[e->count].name = strdup(name);
  e->items[e->count].node = node;
  e->count++;
}

static void remove_entry(struct entries *e, struct entry *victim) {
  free(victim->name);
  size_t i = (size_t)(victim - e->items);
  e->items[i] = e->items[e->count - 1];
  e->count--;
}

static void clear_entries(struct entries *e) {
  for (size_t i = 0; i < e->count; i++) free(e->items[i].name);
  e->count = 0;
}

static void copy_entries(struct entries *to, const struct entries *from) {
  clear_entries(to);
  for (size_t i = 0; i < from->count; i++) add_entry(to, from->items[i].name, from->items[i].node);
}

/* ---- paths ---- */

/* The inode at path (current entries), or NULL. */
static struct inode *resolve(const char *path) {
  if (!path) return NULL;
  struct inode *n = root;
  char buf[4096];
  if (strlen(path) >= sizeof buf) return NULL;
  strcpy(buf, path);
  char *save = NULL;
  for (char *part = strtok_r(buf, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
    if (!n->is_dir) return NULL;
    struct entry *e = find_entry(&n->cur, part);
    if (!e) return NULL;
    n = e->node;
  }
  return n;
}

/* The directory holding path's last component, and that component (pointing into path). */
static struct inode *parent_of(const char *path, const char **name) {
  const char *slash = strrchr(path, '/');
  if (!slash) return NULL;
  *name = slash + 1;
  if (**name == '\0') return NULL;
  char buf[4096];
  size_t len = (size_t)(slash - path);
  if (len >= sizeof buf) return NULL;
  memcpy(buf, path, len);
  buf[len] = '\0';
  struct inode *p = len == 0 ? root : resolve(buf);
  return p && p->is_dir ? p : NULL;
}

static int is_control(const char *path) {
  return path && strcmp(path, CONTROL) == 0;
}

/* The inode of an open handle; NULL when the handle dates from before a cut (its process died). */
static struct inode *handle_inode(struct fuse_file_info *fi) {
  if (!fi || !fi->fh) return NULL;
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  if (h->epoch != epoch || h->control_text) return NULL;
  return h->node;
}

/* For operations that may come with a handle or a path (getattr, truncate). */
static struct inode *target(const char *path, struct fuse_file_info *fi, int *stale) {
  *stale = 0;
  if (fi && fi->fh) {
    struct inode *n = handle_inode(fi);
    if (!n) *stale = 1;
    return n;
  }
  return resolve(path);
}

/* ---- file contents ---- */

static void mark_dirty(struct inode *n, size_t lo, size_t hi) {
  if (lo >= hi) return;
  if (n->dirty_lo >= n->dirty_hi) {
    n->dirty_lo = lo;
    n->dirty_hi = hi;
  } else {
    if (lo < n->dirty_lo) n->dirty_lo = lo;
    if (hi > n->dirty_hi) n->dirty_hi = hi;
  }
}

static void set_size(struct inode *n, size_t size) {
  if (size > n->cap) {
    size_t cap = n->cap ? n->cap : 4096;
    while (cap < size) cap *= 2;
    n->data = xrealloc(n->data, cap);
    n->cap = cap;
  }
  if (size > n->size) memset(n->data + n->size, 0, size - n->size);
  size_t lo = size < n->size ? size : n->size;
  size_t hi = size < n->size ? n->size : size;
  mark_dirty(n, lo, hi);
  n->size = size;
}

/* What a sync makes durable: the file as it was when the sync was called (its size, and the bytes that may
   differ from the synced content). Taken at the call, applied when the sync returns. */
struct file_snapshot {
  size_t size, lo, hi;
  char *bytes;
};

static struct file_snapshot take_file_snapshot(struct inode *n) {
  struct file_snapshot snap = {n->size, 0, 0, NULL};
  size_t hi = n->dirty_hi < n->size ? n->dirty_hi : n->size;
  if (n->dirty_lo < hi) {
    snap.lo = n->dirty_lo;
    snap.hi = hi;
    snap.bytes = xrealloc(NULL, hi - n->dirty_lo);
    memcpy(snap.bytes, n->data + n->dirty_lo, hi - n->dirty_lo);
  }
  /* From here on, the dirty range tracks what differs from the snapshot, which becomes the synced content. */
  n->dirty_lo = n->dirty_hi = 0;
  return snap;
}

static void apply_file_snapshot(struct inode *n, struct file_snapshot *snap) {
  n->synced = xrealloc(n->synced, snap->size);
  if (snap->size > n->synced_size) memset(n->synced + n->synced_size, 0, snap->size - n->synced_size);
  n->synced_size = snap->size;
  if (snap->lo < snap->hi) memcpy(n->synced + snap->lo, snap->bytes, snap->hi - snap->lo);
  free(snap->bytes);
  snap->bytes = NULL;
  n->ever_synced = 1;
  stat_syncs++;
}

static void sync_file(struct inode *n) {
  struct file_snapshot snap = take_file_snapshot(n);
  apply_file_snapshot(n, &snap);
}

static void sync_dir(struct inode *d) {
  copy_entries(&d->durable, &d->cur);
  d->dir_dirty = 0;
  stat_dirsyncs++;
}

static void sync_all(void) {
  for (struct inode *n = all_inodes; n; n = n->next_all) {
    if (n->is_dir) sync_dir(n);
    else sync_file(n);
  }
}

static void revert_file(struct inode *n) {
  if (n->dirty_lo < n->dirty_hi || n->size != n->synced_size) {
    stat_dropped_files++;
    stat_dropped_bytes += n->dirty_hi > n->dirty_lo ? n->dirty_hi - n->dirty_lo : 0;
  }
  n->size = 0;
  set_size(n, n->synced_size);
  if (n->synced_size) memcpy(n->data, n->synced, n->synced_size);
  n->dirty_lo = n->dirty_hi = 0;
}

static void mark_reachable(struct inode *d) {
  if (d->mark) return;
  d->mark = 1;
  if (!d->is_dir) return;
  for (size_t i = 0; i < d->durable.count; i++) mark_reachable(d->durable.items[i].node);
}

static void free_inode(struct inode *n) {
  clear_entries(&n->cur);
  clear_entries(&n->durable);
  free(n->cur.items);
  free(n->durable.items);
  free(n->data);
  free(n->synced);
  free(n);
}

/* The power cut: only what was synced, reachable through synced directory entries, remains. */
static void power_cut(void) {
  stat_cuts++;
  epoch++;
  for (struct inode *n = all_inodes; n; n = n->next_all) n->mark = 0;
  mark_reachable(root);
  struct inode **link = &all_inodes;
  while (*link) {
    struct inode *n = *link;
    if (!n->mark) {
      if (!n->is_dir && n->size) {
        stat_dropped_files++;
        stat_dropped_bytes += n->size;
      }
      *link = n->next_all;
      free_inode(n);
      continue;
    }
    if (n->is_dir) {
      if (n->dir_dirty) stat_reverted_dirs++;
      copy_entries(&n->cur, &n->durable);
      n->dir_dirty = 0;
    } else {
      revert_file(n);
    }
    link = &n->next_all;
  }
}

/* ---- operations ---- */

static void fill_stat(struct inode *n, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_ino = n->ino;
  st->st_mode = n->mode;
  st->st_nlink = n->is_dir ? 2 : 1;
  st->st_uid = getuid();
  st->st_gid = getgid();
  st->st_size = n->is_dir ? 4096 : (off_t)n->size;
  st->st_blksize = 4096;
  st->st_blocks = (st->st_size + 511) / 512;
  st->st_mtim = n->mtime;
  st->st_ctim = n->ctime;
  st->st_atim = n->mtime;
}

static void *pl_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  cfg->use_ino = 1;
  cfg->hard_remove = 1; /* unlink is unlink, not a rename to .fuse_hidden */
  cfg->nullpath_ok = 1;
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->kernel_cache = 0;
  cfg->auto_cache = 0;
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE; /* every write reaches us when it is made */
  printf("powerlossfs: ready\n");
  fflush(stdout);
  return NULL;
}

static int pl_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  if (is_control(path)) {
    memset(st, 0, sizeof *st);
    st->st_ino = 1000000000;
    st->st_mode = S_IFREG | 0600;
    st->st_nlink = 1;
    return 0;
  }
  pthread_mutex_lock(&lock);
  int stale;
  struct inode *n = target(path, fi, &stale);
  int rc = 0;
  if (n) fill_stat(n, st);
  else rc = stale ? -EIO : -ENOENT;
  pthread_mutex_unlock(&lock);
  return rc;
}

static int make_node(const char *path, mode_t mode, int is_dir, struct inode **made) {
  const char *name;
  struct inode *p = parent_of(path, &name);
  if (!p) return -ENOENT;
  if (find_entry(&p->cur, name)) return -EEXIST;
  if (strlen(name) > 255) return -ENAMETOOLONG;
  struct inode *n = new_inode(is_dir, mode);
  add_entry(&p->cur, name, n);
  p->dir_dirty = 1;
  touch(p);
  *made = n;
  return 0;
}

static struct handle *new_handle(struct inode *n) {
  struct handle *h = calloc(1, sizeof *h);
  if (!h) abort();
  h->node = n;
  h->epoch = epoch;
  return h;
}

static int pl_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  if (is_control(path)) return -EEXIST;
  pthread_mutex_lock(&lock);
  struct inode *n;
  int rc = make_node(path, S_IFREG | (mode & 07777), 0, &n);
  if (rc == 0) fi->fh = (uint64_t)(uintptr_t)new_handle(n);
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_open(const char *path, struct fuse_file_info *fi) {
  if (is_control(path)) {
    struct handle *h = calloc(1, sizeof *h);
    if (!h) abort();
    pthread_mutex_lock(&lock);
    char text[512];
    snprintf(text, sizeof text,
        "cuts=%llu dropped_bytes=%llu dropped_files=%llu reverted_dirs=%llu syncs=%llu dirsyncs=%llu syncing=%llu\n",
        (unsigned long long)stat_cuts, (unsigned long long)stat_dropped_bytes,
        (unsigned long long)stat_dropped_files, (unsigned long long)stat_reverted_dirs,
        (unsigned long long)stat_syncs, (unsigned long long)stat_dirsyncs, (unsigned long long)stat_syncing);
    pthread_mutex_unlock(&lock);
    h->control_text = strdup(text);
    fi->fh = (uint64_t)(uintptr_t)h;
    fi->direct_io = 1;
    return 0;
  }
  pthread_mutex_lock(&lock);
  struct inode *n = resolve(path);
  int rc = 0;
  if (!n) rc = -ENOENT;
  else if (n->is_dir) rc = -EISDIR;
  else fi->fh = (uint64_t)(uintptr_t)new_handle(n);
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  if (h && h->control_text) {
    size_t len = strlen(h->control_text);
    if ((size_t)off >= len) return 0;
    if (size > len - (size_t)off) size = len - (size_t)off;
    memcpy(buf, h->control_text + off, size);
    return (int)size;
  }
  pthread_mutex_lock(&lock);
  struct inode *n = handle_inode(fi);
  int rc;
  if (!n) rc = -EIO;
  else if ((size_t)off >= n->size) rc = 0;
  else {
    if (size > n->size - (size_t)off) size = n->size - (size_t)off;
    memcpy(buf, n->data + off, size);
    rc = (int)size;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int control_command(const char *buf, size_t size) {
  if (size >= 3 && strncmp(buf, "cut", 3) == 0) power_cut();
  else if (size >= 4 && strncmp(buf, "sync", 4) == 0) sync_all();
  else return -EINVAL;
  return (int)size;
}

static int pl_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  int rc;
  if (h && h->control_text) {
    /* sync_lock too: "sync" must not interleave with a slow sync's apply */
    pthread_mutex_lock(&sync_lock);
    pthread_mutex_lock(&lock);
    rc = control_command(buf, size);
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&sync_lock);
    return rc;
  }
  pthread_mutex_lock(&lock);
  struct inode *n = handle_inode(fi);
  if (!n) rc = -EIO;
  else {
    size_t end = (size_t)off + size;
    if (end > n->size) set_size(n, end);
    memcpy(n->data + off, buf, size);
    mark_dirty(n, (size_t)off, end);
    touch(n);
    rc = (int)size;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  if (is_control(path)) return 0;
  pthread_mutex_lock(&lock);
  int stale;
  struct inode *n = target(path, fi, &stale);
  int rc = 0;
  if (!n) rc = stale ? -EIO : -ENOENT;
  else if (n->is_dir) rc = -EISDIR;
  else {
    set_size(n, (size_t)size);
    touch(n);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi) {
  (void)path;
  if (mode != 0) return -EOPNOTSUPP;
  pthread_mutex_lock(&lock);
  struct inode *n = handle_inode(fi);
  int rc = 0;
  if (!n) rc = -EIO;
  else if ((size_t)(off + len) > n->size) set_size(n, (size_t)(off + len));
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  (void)datasync; /* fdatasync makes data and size durable too, which is all a file holds here */
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  if (h && h->control_text) return 0;
  pthread_mutex_lock(&sync_lock);
  pthread_mutex_lock(&lock);
  struct inode *n = handle_inode(fi);
  int rc = 0;
  if (!n) rc = -EIO;
  else if (!sync_delay_micros) sync_file(n);
  else {
    /* A slow sync, as on a disk: what was written before the call becomes durable when it returns; what is
       written while it runs (reads and writes go on meanwhile) waits for the next sync. A cut in between
       (a new epoch) makes it fail and count for nothing. */
    uint64_t called_in = epoch;
    struct file_snapshot snap = take_file_snapshot(n);
    stat_syncing++;
    pthread_mutex_unlock(&lock);
    usleep(sync_delay_micros);
    pthread_mutex_lock(&lock);
    stat_syncing--;
    if (epoch == called_in) apply_file_snapshot(n, &snap);
    else {
      free(snap.bytes);
      rc = -EIO;
    }
  }
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&sync_lock);
  return rc;
}

static int pl_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  if (h) {
    free(h->control_text);
    free(h);
  }
  return 0;
}

static int pl_opendir(const char *path, struct fuse_file_info *fi) {
  pthread_mutex_lock(&lock);
  struct inode *n = resolve(path);
  int rc = 0;
  if (!n) rc = -ENOENT;
  else if (!n->is_dir) rc = -ENOTDIR;
  else fi->fh = (uint64_t)(uintptr_t)new_handle(n);
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_releasedir(const char *path, struct fuse_file_info *fi) {
  return pl_release(path, fi);
}

static int pl_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  (void)datasync;
  pthread_mutex_lock(&sync_lock);
  pthread_mutex_lock(&lock);
  struct inode *n = handle_inode(fi);
  int rc = 0;
  if (!n) rc = -EIO;
  else if (!sync_delay_micros) sync_dir(n);
  else {
    /* As in pl_fsync: the entries as of the call become durable when the slow sync returns. */
    uint64_t called_in = epoch;
    struct entries snap = {NULL, 0, 0};
    copy_entries(&snap, &n->cur);
    n->dir_dirty = 0;
    pthread_mutex_unlock(&lock);
    usleep(sync_delay_micros);
    pthread_mutex_lock(&lock);
    if (epoch == called_in) {
      copy_entries(&n->durable, &snap);
      stat_dirsyncs++;
    } else {
      rc = -EIO;
    }
    clear_entries(&snap);
    free(snap.items);
  }
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&sync_lock);
  return rc;
}

static int pl_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
    enum fuse_readdir_flags flags) {
  (void)path;
  (void)off;
  (void)flags;
  pthread_mutex_lock(&lock);
  struct inode *d = handle_inode(fi);
  int rc = 0;
  if (!d) rc = -EIO;
  else {
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    for (size_t i = 0; i < d->cur.count; i++) fill(buf, d->cur.items[i].name, NULL, 0, 0);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_mkdir(const char *path, mode_t mode) {
  pthread_mutex_lock(&lock);
  struct inode *n;
  int rc = make_node(path, S_IFDIR | (mode & 07777), 1, &n);
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_unlink(const char *path) {
  if (is_control(path)) return -EPERM;
  pthread_mutex_lock(&lock);
  const char *name;
  struct inode *p = parent_of(path, &name);
  struct entry *e = p ? find_entry(&p->cur, name) : NULL;
  int rc = 0;
  if (!e) rc = -ENOENT;
  else if (e->node->is_dir) rc = -EISDIR;
  else {
    remove_entry(&p->cur, e); /* the inode lives on for open handles and the durable entries */
    p->dir_dirty = 1;
    touch(p);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_rmdir(const char *path) {
  pthread_mutex_lock(&lock);
  const char *name;
  struct inode *p = parent_of(path, &name);
  struct entry *e = p ? find_entry(&p->cur, name) : NULL;
  int rc = 0;
  if (!e) rc = -ENOENT;
  else if (!e->node->is_dir) rc = -ENOTDIR;
  else if (e->node->cur.count) rc = -ENOTEMPTY;
  else {
    remove_entry(&p->cur, e);
    p->dir_dirty = 1;
    touch(p);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_rename(const char *from, const char *to, unsigned int flags) {
  if (is_control(from) || is_control(to)) return -EPERM;
  if (flags & ~RENAME_NOREPLACE) return -EINVAL;
  pthread_mutex_lock(&lock);
  const char *from_name, *to_name;
  struct inode *fp = parent_of(from, &from_name);
  struct inode *tp = parent_of(to, &to_name);
  struct entry *fe = fp ? find_entry(&fp->cur, from_name) : NULL;
  int rc = 0;
  if (!fe || !tp) rc = -ENOENT;
  else {
    struct inode *moving = fe->node;
    struct entry *te = find_entry(&tp->cur, to_name);
    if (te && te->node == moving) {
      rc = 0;
    } else if (te && (flags & RENAME_NOREPLACE)) {
      rc = -EEXIST;
    } else if (te && te->node->is_dir && (!moving->is_dir || te->node->cur.count)) {
      rc = moving->is_dir ? -ENOTEMPTY : -EISDIR;
    } else if (te && !te->node->is_dir && moving->is_dir) {
      rc = -ENOTDIR;
    } else {
      remove_entry(&fp->cur, fe);
      te = find_entry(&tp->cur, to_name);
      if (te) te->node = moving;
      else add_entry(&tp->cur, to_name, moving);
      fp->dir_dirty = tp->dir_dirty = 1;
      touch(fp);
      touch(tp);
    }
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  pthread_mutex_lock(&lock);
  int stale;
  struct inode *n = is_control(path) ? NULL : target(path, fi, &stale);
  int rc = 0;
  if (!n) rc = is_control(path) ? 0 : stale ? -EIO : -ENOENT;
  else n->mode = (n->mode & S_IFMT) | (mode & 07777);
  pthread_mutex_unlock(&lock);
  return rc;
}

static int pl_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  (void)path;
  (void)uid;
  (void)gid;
  (void)fi;
  return 0;
}

static int pl_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
  (void)tv;
  pthread_mutex_lock(&lock);
  int stale;
  struct inode *n = is_control(path) ? NULL : target(path, fi, &stale);
  if (n) touch(n);
  pthread_mutex_unlock(&lock);
  return 0;
}

static int pl_statfs(const char *path, struct statvfs *st) {
  (void)path;
  memset(st, 0, sizeof *st);
  st->f_bsize = st->f_frsize = 4096;
  st->f_blocks = st->f_bfree = st->f_bavail = 1u << 20; /* 4 GiB: the data lives in this process's memory */
  st->f_files = st->f_ffree = st->f_favail = 1u << 20;
  st->f_namemax = 255;
  return 0;
}

static const struct fuse_operations ops = {
  .init = pl_init,
  .getattr = pl_getattr,
  .create = pl_create,
  .open = pl_open,
  .read = pl_read,
  .write = pl_write,
  .truncate = pl_truncate,
  .fallocate = pl_fallocate,
  .fsync = pl_fsync,
  .release = pl_release,
  .opendir = pl_opendir,
  .releasedir = pl_releasedir,
  .fsyncdir = pl_fsyncdir,
  .readdir = pl_readdir,
  .mkdir = pl_mkdir,
  .unlink = pl_unlink,
  .rmdir = pl_rmdir,
  .rename = pl_rename,
  .chmod = pl_chmod,
  .chown = pl_chown,
  .utimens = pl_utimens,
  .statfs = pl_statfs,
};

int main(int argc, char *argv[]) {
  const char *delay = getenv("POWERLOSS_SYNC_MICROS");
  if (delay) sync_delay_micros = (useconds_t)strtoul(delay, NULL, 10);
  root = new_inode(1, S_IFDIR | 0755);
  root->ever_synced = 1;
  return fuse_main(argc, argv, &ops, NULL);
}
