/* Safe output files: see support/output.h for the rules. */
#include "support/output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct qoOutput {
  FILE *f;
  char *dest;   /* final path (symbolic links resolved) */
  char *tmp;    /* temporary file beside dest; NULL when written in place */
  int isStdout; /* "-" */
  int failed;   /* a write failed */
  int err;      /* its errno */
  int finished;
};

static int fail(char *err, size_t n, const char *path, int e) {
  if (err && n) snprintf(err, n, "cannot write '%s': %s", path, strerror(e));
  return -1;
}

static void freeOutput(qoOutput *o) {
  free(o->dest);
  free(o->tmp);
  free(o);
}

/* Opens a non-regular destination (device, FIFO, socket) in place. */
static int openInPlace(qoOutput *o, const char *path, char *err, size_t n) {
  int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return fail(err, n, path, errno);
  o->f = fdopen(fd, "w");
  if (!o->f) {
    int e = errno;
    close(fd);
    return fail(err, n, path, e);
  }
  return 0;
}

/* The process's umask, read without changing it (umask(2) can only swap it,
 * which would race with other threads creating files). */
static mode_t currentUmask(void) {
  FILE *f = fopen("/proc/self/status", "r");
  unsigned mask = 022;
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "Umask: %o", &mask) == 1) break;
  if (f) fclose(f);
  return (mode_t)mask;
}

/* Creates the temporary file "<dir>/.<base>.XXXXXX" beside `dest`. */
static int openTemp(qoOutput *o, const char *dest, mode_t mode, char *err, size_t n) {
  const char *slash = strrchr(dest, '/');
  size_t dirLen = slash ? (size_t)(slash - dest + 1) : 0;
  const char *base = dest + dirLen;
  if (!*base) return fail(err, n, dest, EISDIR);
  size_t len = strlen(dest) + 16;
  o->tmp = malloc(len);
  if (!o->tmp) return fail(err, n, dest, ENOMEM);
  snprintf(o->tmp, len, "%.*s.%s.XXXXXX", (int)dirLen, dest, base);
  int fd = mkstemp(o->tmp); /* O_CREAT | O_EXCL: never follows a link */
  if (fd < 0) {
    int e = errno;
    free(o->tmp);
    o->tmp = NULL;
    return fail(err, n, dest, e);
  }
  /* mkstemp makes the file 0600; give it the mode a new file (or the file it
   * replaces) would have. */
  if (fchmod(fd, mode) != 0 || !(o->f = fdopen(fd, "w"))) {
    int e = errno;
    close(fd);
    unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    return fail(err, n, dest, e);
  }
  return 0;
}

int qoOutputOpen(const char *path, qoOutput **out, char *err, size_t n) {
  *out = NULL;
  if (!path || !*path) {
    if (err && n) snprintf(err, n, "cannot write '': empty output path");
    return -1;
  }
  qoOutput *o = calloc(1, sizeof *o);
  if (!o) return fail(err, n, path, ENOMEM);
  if (!strcmp(path, "-")) {
    o->isStdout = 1;
    o->f = stdout;
    *out = o;
    return 0;
  }
  struct stat st;
  int exists = stat(path, &st) == 0; /* follows links */
  int rc;
  if (exists && S_ISDIR(st.st_mode)) {
    rc = fail(err, n, path, EISDIR);
  } else if (exists && !S_ISREG(st.st_mode)) {
    rc = openInPlace(o, path, err, n);
  } else {
    struct stat lst;
    char *dest = NULL;
    if (exists && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
      dest = realpath(path, NULL); /* replace the file the link points to */
    else if (!exists && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
      errno = ENOENT, dest = NULL; /* a dangling link: refuse */
    else
      dest = strdup(path);
    if (!dest) {
      rc = fail(err, n, path, errno ? errno : ENOMEM);
    } else {
      o->dest = dest;
      mode_t mode;
      if (exists) {
        mode = st.st_mode & 07777;
      } else {
        mode = 0666 & ~currentUmask();
      }
      rc = openTemp(o, dest, mode, err, n);
    }
  }
  if (rc) {
    freeOutput(o);
    return -1;
  }
  if (!o->dest && !(o->dest = strdup(path))) {
    fclose(o->f);
    freeOutput(o);
    return fail(err, n, path, ENOMEM);
  }
  *out = o;
  return 0;
}

FILE *qoOutputStream(qoOutput *o) { return o->f; }

void qoOutputWrite(qoOutput *o, const void *data, size_t size) {
  if (o->failed || !size) return;
  if (fwrite(data, 1, size, o->f) != size) o->failed = 1, o->err = errno ? errno : EIO;
}

int qoOutputCopyFile(qoOutput *o, const char *path, char *err, size_t n) {
  FILE *in = fopen(path, "rb");
  if (!in) {
    if (err && n) snprintf(err, n, "cannot read '%s': %s", path, strerror(errno));
    return -1;
  }
  char buf[1 << 16];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, in)) > 0) qoOutputWrite(o, buf, k);
  int bad = ferror(in);
  fclose(in);
  if (bad) {
    if (err && n) snprintf(err, n, "cannot read '%s'", path);
    return -1;
  }
  return 0;
}

int qoOutputFinish(qoOutput *o, char *err, size_t n) {
  if (o->finished) return 0;
  errno = 0;
  if (!o->failed && fflush(o->f) != 0) o->failed = 1, o->err = errno ? errno : EIO;
  if (!o->failed && ferror(o->f)) o->failed = 1, o->err = EIO;
  /* Delayed allocation can report a full disk only here. */
  if (!o->failed && o->tmp && fsync(fileno(o->f)) != 0) o->failed = 1, o->err = errno;
  if (o->failed) return fail(err, n, o->isStdout ? "<stdout>" : o->dest, o->err);
  o->finished = 1;
  return 0;
}

int qoOutputCommit(qoOutput *o, char *err, size_t n) {
  int rc = qoOutputFinish(o, err, n);
  if (o->isStdout) {
    freeOutput(o);
    return rc;
  }
  if (fclose(o->f) != 0 && rc == 0) rc = fail(err, n, o->dest, errno);
  if (o->tmp) {
    if (rc == 0 && rename(o->tmp, o->dest) != 0) rc = fail(err, n, o->dest, errno);
    if (rc != 0) unlink(o->tmp);
  }
  freeOutput(o);
  return rc;
}

void qoOutputDiscard(qoOutput *o) {
  if (!o) return;
  if (!o->isStdout) {
    fclose(o->f);
    if (o->tmp) unlink(o->tmp);
  } else {
    fflush(stdout);
  }
  freeOutput(o);
}

int qoWriteFile(const char *path, const void *data, size_t size, char *err, size_t n) {
  qoOutput *o;
  if (qoOutputOpen(path, &o, err, n) != 0) return -1;
  qoOutputWrite(o, data, size);
  return qoOutputCommit(o, err, n);
}
