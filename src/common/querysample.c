/*-------------------------------------------------------------------------
 *
 * querysample.c
 *	  The recorded query vectors (vectorx.query_sample_rate): where they
 *	  are kept and in what format, the writer that both access methods'
 *	  amrescan call (VxSampleQuery), the reader behind
 *	  vectorx_sampled_queries and vectorx_recall_sampled, and the sweep
 *	  that removes the files of dropped indexes.  When to read or sweep,
 *	  and who may, is the monitor's business (src/monitor.c); this file
 *	  only knows the files, so that the access methods can record queries
 *	  without depending on the monitor.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>

#include "common/pg_prng.h"
#include "common/relpath.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "halfvec.h"
#include "querysample.h"
#include "vector.h"

/*
 * Where the samples live and why (README, "What is kept where"):
 *
 *	<database directory>/pgsql_tmp_vectorx_samples/<index OID>[.old]
 *
 * - In the database's own directory (base/<dboid>, or the tablespace's),
 *   so DROP DATABASE removes them with the rest of the database, whether
 *   or not vectorx is loaded anywhere, and a later database that reuses the
 *   OID starts empty.  CREATE DATABASE copies relation files only (and
 *   STRATEGY FILE_COPY does not descend into subdirectories), so a new
 *   database does not inherit its template's samples either.
 * - Under a name that starts with "pgsql_tmp": PostgreSQL's tools treat
 *   such names as temporary files, so pg_basebackup (and so every standby
 *   built from a base backup), pg_rewind and pg_checksums skip them.  They
 *   are never WAL-logged: a standby keeps the samples of its own scans.
 *   The server does not clear them at restart.
 * - Per index, by OID: a file whose OID no longer names one of our indexes
 *   is removed by the sweep below, at the commit of any transaction that
 *   dropped a relation while vectorx was loaded, and of the first
 *   transaction after vectorx was loaded in a backend (a DROP INDEX in a
 *   fresh session loads vectorx itself, when it opens the index, after the
 *   drop hook would have fired), and of any transaction that read samples.
 *
 * Each record is a SampleRecord header and `dims` floats, written by one
 * write() with O_APPEND; the CRC covers the header's dims and the floats,
 * so a torn record (a crash mid-write, a full disk) fails it and is
 * skipped: the reader then moves forward byte by byte to the next record
 * whose magic and CRC hold.
 *
 * Writers, the rotation (the file becomes ".old" when it holds
 * vectorx.query_sample_size records, replacing the previous ".old") and the
 * sweep hold an exclusive flock() on the directory; readers open both files
 * under a shared one, then read without it.  So concurrent writers cannot
 * both rotate (which lost a whole file of samples), a short write can be
 * cut off before anyone appends behind it, and a reader sees one
 * consistent pair of files.  The lock is held for one write, or one rename,
 * or one directory listing: microseconds.
 */
#define SAMPLE_DIR		"pgsql_tmp_vectorx_samples"
#define SAMPLE_MAGIC	0x32515856	/* "VXQ2" */
#define SAMPLE_READ_CHUNK 65536

typedef struct SampleRecord
{
	uint32		magic;			/* SAMPLE_MAGIC */
	uint32		dims;			/* floats that follow, 1..VECTOR_MAX_DIM */
	pg_crc32c	crc;			/* CRC-32C of dims and the floats */
	/* float	x[dims] follows */
} SampleRecord;

#define SampleRecordSize(dims)	(sizeof(SampleRecord) + sizeof(float) * (Size) (dims))

double		vx_query_sample_rate = 0.0;
int			vx_query_sample_size = 1000;

static void
SampleDir(char *dir)
{
	char	   *dbpath = GetDatabasePath(MyDatabaseId, MyDatabaseTableSpace);

	snprintf(dir, MAXPGPATH, "%s/%s", dbpath, SAMPLE_DIR);
	pfree(dbpath);
}

static void
SamplePath(char *path, Oid indexoid, bool old)
{
	char		dir[MAXPGPATH];

	SampleDir(dir);
	snprintf(path, MAXPGPATH, "%s/%u%s", dir, indexoid, old ? ".old" : "");
}

static pg_crc32c
SampleCrc(const SampleRecord *rec)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &rec->dims, sizeof(rec->dims));
	COMP_CRC32C(crc, (const char *) rec + sizeof(SampleRecord), sizeof(float) * (Size) rec->dims);
	FIN_CRC32C(crc);
	return crc;
}

/*
 * Open the sample directory (creating it if asked) and flock() it with
 * `how`; returns the descriptor, whose close releases the lock (also at
 * transaction abort: it is a transient file), or -1 with errno set.
 */
static int
LockSampleDir(const char *dir, int how, bool create)
{
	int			fd;

	if (create && MakePGDirectory(dir) < 0 && errno != EEXIST)
		return -1;
	fd = OpenTransientFile(dir, O_RDONLY | PG_BINARY);
	if (fd < 0)
		return -1;
	while (flock(fd, how) != 0)
	{
		int			save_errno = errno;

		if (save_errno == EINTR)
			continue;
		CloseTransientFile(fd);
		errno = save_errno;
		return -1;
	}
	return fd;
}

/*
 * Record the query of an index scan with probability
 * vectorx.query_sample_rate.  Failures are reported at DEBUG1 and never
 * fail the query: the samples are a convenience.
 */
void
VxSampleQuery(Relation index, Datum query, bool half)
{
	Vector	   *v;
	char		dir[MAXPGPATH];
	char		path[MAXPGPATH];
	Size		len;
	SampleRecord *rec;
	int			dirfd;
	int			fd;
	struct stat st;
	ssize_t		written;

	if (vx_query_sample_rate <= 0 || pg_prng_double(&pg_global_prng_state) >= vx_query_sample_rate)
		return;
	if (half)
	{
		const HalfVector *h = DatumGetHalfVector(query);

		v = VxNewVector(h->dim);
		VxHalfDatumFloats(query, v->x, h->dim);
	}
	else
		v = DatumGetVector(query);
	len = SampleRecordSize(v->dim);
	rec = palloc(len);
	rec->magic = SAMPLE_MAGIC;
	rec->dims = v->dim;
	memcpy((char *) rec + sizeof(SampleRecord), v->x, sizeof(float) * v->dim);
	rec->crc = SampleCrc(rec);

	SampleDir(dir);
	dirfd = LockSampleDir(dir, LOCK_EX, true);
	if (dirfd < 0)
	{
		elog(DEBUG1, "vectorx: could not lock directory \"%s\": %m", dir);
		pfree(rec);
		return;
	}
	SamplePath(path, RelationGetRelid(index), false);
	fd = OpenTransientFile(path, O_WRONLY | O_CREAT | O_APPEND | PG_BINARY);
	if (fd < 0)
		elog(DEBUG1, "vectorx: could not open \"%s\": %m", path);
	else if (fstat(fd, &st) != 0)
		elog(DEBUG1, "vectorx: could not stat \"%s\": %m", path);
	else
	{
		errno = 0;
		written = write(fd, rec, len);
		if (written != (ssize_t) len)
		{
			if (errno == 0)
				errno = ENOSPC;
			elog(DEBUG1, "vectorx: could not write \"%s\": %m", path);
			/* cut the torn record off before anyone appends behind it */
			if (written > 0 && ftruncate(fd, st.st_size) != 0)
				elog(DEBUG1, "vectorx: could not truncate \"%s\": %m", path);
		}
		else if (st.st_size + (off_t) len >= (off_t) len * vx_query_sample_size)
		{
			char		old[MAXPGPATH];

			SamplePath(old, RelationGetRelid(index), true);
			if (rename(path, old) != 0)
				elog(DEBUG1, "vectorx: could not rename \"%s\": %m", path);
		}
	}
	if (fd >= 0)
		CloseTransientFile(fd);
	CloseTransientFile(dirfd);
	pfree(rec);
}

/*
 * Make buf[*pos, *len) hold at least `need` bytes, moving the rest to the
 * front and reading on; false at the end of the file.
 */
static bool
SampleFill(int fd, const char *path, char *buf, Size cap, Size *pos, Size *len, bool *eof, Size need)
{
	if (*len - *pos >= need)
		return true;
	if (*eof)
		return false;
	memmove(buf, buf + *pos, *len - *pos);
	*len -= *pos;
	*pos = 0;
	while (*len < need)
	{
		ssize_t		n = read(fd, buf + *len, cap - *len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", path)));
		}
		if (n == 0)
		{
			*eof = true;
			return false;
		}
		*len += n;
	}
	return true;
}

/*
 * Append the intact records of one sample file to *out, skipping damaged
 * bytes (see above); the skipped amount goes to the server log.
 */
static void
ReadSamples(int fd, const char *path, List **out)
{
	Size		cap = SAMPLE_READ_CHUNK + SampleRecordSize(VECTOR_MAX_DIM);
	char	   *buf = palloc(cap);
	Size		pos = 0,
				len = 0;
	bool		eof = false;
	uint64		skipped = 0;
	uint64		steps = 0;

	while (SampleFill(fd, path, buf, cap, &pos, &len, &eof, sizeof(SampleRecord)))
	{
		SampleRecord h;

		if ((++steps & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		memcpy(&h, buf + pos, sizeof(h));
		if (h.magic == SAMPLE_MAGIC && h.dims >= 1 && h.dims <= VECTOR_MAX_DIM &&
			SampleFill(fd, path, buf, cap, &pos, &len, &eof, SampleRecordSize(h.dims)))
		{
			SampleRecord *rec = (SampleRecord *) palloc(SampleRecordSize(h.dims));

			memcpy(rec, buf + pos, SampleRecordSize(h.dims));
			if (SampleCrc(rec) == h.crc)
			{
				Vector	   *v = VxNewVector(h.dims);

				memcpy(v->x, (char *) rec + sizeof(SampleRecord), sizeof(float) * h.dims);
				*out = lappend(*out, v);
				pos += SampleRecordSize(h.dims);
				pfree(rec);
				continue;
			}
			pfree(rec);
		}
		/* not a record here: a torn one, or the middle of one */
		pos++;
		skipped++;
	}
	skipped += len - pos;		/* a tail shorter than a header */
	if (skipped > 0)
		ereport(LOG,
				(errmsg("vectorx: skipped %llu bytes of damaged query samples in file \"%s\"",
						(unsigned long long) skipped, path)));
	pfree(buf);
}

/*
 * The recorded queries of an index, oldest first.  The caller has checked
 * the privilege to read them (monitor.c, "who may call what").
 */
List *
VxSampledQueries(Oid indexoid)
{
	char		dir[MAXPGPATH];
	char		path[2][MAXPGPATH];
	int			fds[2];
	int			dirfd;
	List	   *out = NIL;

	SampleDir(dir);
	dirfd = LockSampleDir(dir, LOCK_SH, false);
	if (dirfd < 0)
	{
		if (errno == ENOENT)
			return NIL;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not lock directory \"%s\": %m", dir)));
	}
	/* both files under the lock: no rotation between them */
	for (int i = 0; i < 2; i++)
	{
		SamplePath(path[i], indexoid, i == 0);
		fds[i] = OpenTransientFile(path[i], O_RDONLY | PG_BINARY);
		if (fds[i] < 0 && errno != ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open file \"%s\": %m", path[i])));
	}
	CloseTransientFile(dirfd);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
		{
			ReadSamples(fds[i], path[i], &out);
			CloseTransientFile(fds[i]);
		}
	return out;
}

/*
 * Remove the sample files of this database whose OID no longer names one of
 * our indexes, as this transaction sees the catalog: keep(oid) says which
 * still do (the monitor asks the index registry).
 */
void
VxSweepSamples(bool (*keep) (Oid indexoid))
{
	char		dir[MAXPGPATH];
	int			dirfd;
	DIR		   *d;
	struct dirent *de;

	SampleDir(dir);
	dirfd = LockSampleDir(dir, LOCK_EX, false);
	if (dirfd < 0)
	{
		if (errno != ENOENT)
			elog(DEBUG1, "vectorx: could not lock directory \"%s\": %m", dir);
		return;
	}
	d = AllocateDir(dir);
	while ((de = ReadDirExtended(d, dir, LOG)) != NULL)
	{
		char	   *end;
		unsigned long oid;
		char		path[MAXPGPATH];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		errno = 0;
		oid = strtoul(de->d_name, &end, 10);
		if (errno == 0 && end != de->d_name && oid <= PG_UINT32_MAX &&
			(*end == '\0' || strcmp(end, ".old") == 0) &&
			keep((Oid) oid))
			continue;
		snprintf(path, MAXPGPATH, "%s/%s", dir, de->d_name);
		if (unlink(path) != 0)
			elog(DEBUG1, "vectorx: could not remove \"%s\": %m", path);
	}
	FreeDir(d);
	CloseTransientFile(dirfd);
}

void
VxQuerySampleInit(void)
{
	DefineCustomRealVariable("vectorx.query_sample_rate",
							 "Fraction of index scans whose query vector is recorded for vectorx_recall_sampled.",
							 "0 (the default) records nothing.  Samples are kept per index in "
							 "the database's directory, in " SAMPLE_DIR ".",
							 &vx_query_sample_rate,
							 0.0, 0.0, 1.0,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("vectorx.query_sample_size",
							"Query samples kept per index: between this many and twice as many.",
							NULL,
							&vx_query_sample_size,
							1000, 10, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}
