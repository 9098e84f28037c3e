/*-------------------------------------------------------------------------
 *
 * ivfpqmeta.c
 *	  The IVF-PQ meta page and the index's shape: the meta-page check,
 *	  reading the meta page, and the per-backend cache of the read-only
 *	  parts (IvfpqGetShape: meta page, centroids, codebooks and what derives
 *	  from them), with the sub-vector split they share with the build.
 *	  Called by every stage of src/ivfpq; ivfpq.h documents the format.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "distance.h"
#include "ivfpq.h"
#include "vxcache.h"
#include "vxindex.h"

void
IvfpqSubspaces(int dims, int m, int *dsub, int *doff)
{
	int			off = 0;

	for (int j = 0; j < m; j++)
	{
		dsub[j] = dims / m + (j < dims % m ? 1 : 0);
		doff[j] = off;
		off += dsub[j];
	}
}

/* is this an ivfflat index?  (its meta page says nbits 0: ivfpq.h, IVFFLAT) */
bool
IvfpqIsFlatIndex(Relation index)
{
	return index->rd_indam != NULL && index->rd_indam->ambuild == ivfflatbuild;
}

/* pages of a flat part (centroids, codebooks) of so many bytes */
Size
IvfpqFlatPages(Size bytes)
{
	return (bytes + IVFPQ_DATA_SIZE - 1) / IVFPQ_DATA_SIZE;
}

/*
 * The meta page: page id, magic, version, then the shape within the
 * limits the build enforces, and the parts within the relation in their
 * order (centroids, codebooks, directory, list pages).
 */
static void
CheckMeta(Relation index, Buffer buf)
{
	Page		page = BufferGetPage(buf);
	IvfpqMetaPage meta = IvfpqPageGetMeta(page);
	BlockNumber nblocks;
	int			ksub;
	bool		flat = meta->nbits == IVFPQ_NBITS_FLAT;

	/* page id, magic, version, the struct below pd_lower (page.h) */
	VxCheckMetaPage(index, buf, &IvfpqPageFormat, sizeof(IvfpqMetaPageData));
	IvfpqCheckPage(index, buf, IVFPQ_META);
	if (meta->dims < 1 ||
		meta->dims > (!flat ? VECTOR_MAX_DIM : meta->metric == VX_METRIC_HAMMING ? IVFFLAT_MAX_BITS : IVFFLAT_MAX_DIM) ||
		(meta->metric != VX_METRIC_L2 && meta->metric != VX_METRIC_IP &&
		 meta->metric != VX_METRIC_COSINE && !(flat && meta->metric == VX_METRIC_HAMMING)) ||
		meta->metric != (uint8) VxIndexMetric(index) ||
		(meta->nbits != 4 && meta->nbits != 8 && !flat) ||
		(flat ? meta->m != 0 : (meta->m < 1 || meta->m > IVFPQ_MAX_M || meta->m > meta->dims)))
		IvfpqCorrupt(index, IVFPQ_META_BLKNO, "dimensions, metric, nbits or m out of range");
	/* an IVFFlat index is read by the ivfflat access method only, and back */
	if (flat != IvfpqIsFlatIndex(index))
		IvfpqCorrupt(index, IVFPQ_META_BLKNO, "the entry format is not the access method's");
	if (!VxIndexDimsMatch(index, meta->dims))
		IvfpqCorrupt(index, IVFPQ_META_BLKNO, "the dimensions are not the indexed column's");
	if (meta->block != IvfpqBlockSize(meta->nbits) ||
		meta->block_bytes != (uint32) IvfpqBlockBytes(meta->m, meta->nbits, IvfpqFlatBytes(meta->dims, meta->metric)) ||
		meta->blocks_per_page < 1 ||
		(Size) meta->blocks_per_page * meta->block_bytes > IVFPQ_DATA_SIZE)
		IvfpqCorrupt(index, IVFPQ_META_BLKNO, "invalid list page layout");
	if (meta->lists < 1 || meta->lists > IVFPQ_MAX_LISTS || meta->trained > 1 ||
		(!meta->trained && meta->lists != 1))
		IvfpqCorrupt(index, IVFPQ_META_BLKNO, "invalid list count");
	ksub = flat ? 0 : 1 << meta->nbits;	/* IVFFlat: no codebooks */
	nblocks = RelationGetNumberOfBlocks(index);
	if ((meta->trained &&
		 (meta->centroid_start < 1 ||
		  meta->centroid_start + IvfpqFlatPages(sizeof(float) * (Size) meta->lists * meta->dims) >
		  meta->codebook_start ||
		  meta->codebook_start + IvfpqFlatPages(sizeof(float) * (Size) ksub * meta->dims) >
		  meta->directory_start)) ||
		meta->directory_start < 1 ||
		(Size) meta->directory_start + (meta->lists + IVFPQ_LISTS_PER_PAGE - 1) / IVFPQ_LISTS_PER_PAGE >
		meta->data_start ||
		meta->data_start > nblocks)
		IvfpqCorrupt(index, IVFPQ_META_BLKNO, "the index's parts lie outside it");
}

void
IvfpqReadMeta(Relation index, IvfpqMetaPageData *meta)
{
	VxReadMetaPage(index, CheckMeta, meta, sizeof(IvfpqMetaPageData));
}

/* copy n floats of a flat array that starts at the data area of blkno */
static void
ReadFlat(Relation index, BlockNumber blkno, float *out, Size n)
{
	Size		bytes = n * sizeof(float);
	Size		done = 0;

	while (done < bytes)
	{
		Buffer		buf = ReadBuffer(index, blkno++);
		Size		len = Min(bytes - done, IVFPQ_DATA_SIZE);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		IvfpqCheckPage(index, buf, IVFPQ_FLAT);
		memcpy((char *) out + done, IvfpqPageData(BufferGetPage(buf)), len);
		UnlockReleaseBuffer(buf);
		done += len;
	}
}

/*
 * The shape of an index with its centroids and codebooks (ivfpq.h,
 * IvfpqShape): read once per backend and build, then reused.  Costs one
 * meta-page read per call, to compare build ids.  The cache (vxcache.h)
 * frees an index's entry at the end of a transaction that invalidated it;
 * an entry is stored only once complete, so an error while reading the
 * parts leaves nothing behind.
 */
static VxNodeCache *shape_cache = NULL;

/* a cached shape is of the index's current build (a relfilenode can be reused) */
static bool
SameBuild(const void *data, void *arg)
{
	return ((const IvfpqShape *) data)->meta.build_id == ((const IvfpqMetaPageData *) arg)->build_id;
}

/* a new cache entry, in cxt: the shape of the build whose meta page is arg */
static void *
ReadShape(Relation index, MemoryContext cxt, void *arg)
{
	IvfpqMetaPageData meta = *(const IvfpqMetaPageData *) arg;
	IvfpqShape *shape;
	Size		size;
	char	   *p;
	int			m,
				ksub,
				dims;
	Size		ncent,
				ncb;

	m = meta.m;
	ksub = meta.nbits == IVFPQ_NBITS_FLAT ? 0 : 1 << meta.nbits;
	dims = meta.dims;
	ncent = meta.trained ? (Size) meta.lists * dims : 0;
	ncb = meta.trained ? (Size) ksub * dims : 0;
	size = MAXALIGN(sizeof(IvfpqShape)) + MAXALIGN(sizeof(int) * m) * 3 +
		MAXALIGN(sizeof(float) * ncent) + MAXALIGN(sizeof(float) * meta.lists) +
		MAXALIGN(sizeof(float) * ncb) * 2 + MAXALIGN(sizeof(float) * ksub * m);
	p = MemoryContextAllocExtended(cxt, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	shape = (IvfpqShape *) p;
	p += MAXALIGN(sizeof(IvfpqShape));
	shape->node = index->rd_node;
	shape->meta = meta;
	shape->ksub = ksub;
	shape->code_bytes = IvfpqCodeBytes(m, meta.nbits, IvfpqFlatBytes(dims, meta.metric));
	shape->flat = meta.nbits == IVFPQ_NBITS_FLAT;
	VxCodecInit(&shape->codec, dims, (VxMetric) meta.metric, VxIndexElem(index), 0);
	shape->dsub = (int *) p;
	p += MAXALIGN(sizeof(int) * m);
	shape->doff = (int *) p;
	p += MAXALIGN(sizeof(int) * m);
	shape->cboff = (int *) p;
	p += MAXALIGN(sizeof(int) * m);
	shape->centroids = (float *) p;
	p += MAXALIGN(sizeof(float) * ncent);
	shape->centroid_norms = (float *) p;
	p += MAXALIGN(sizeof(float) * meta.lists);
	shape->codebooks = (float *) p;
	p += MAXALIGN(sizeof(float) * ncb);
	shape->codebooks_t = (float *) p;
	p += MAXALIGN(sizeof(float) * ncb);
	shape->codebook_norms = (float *) p;
	IvfpqSubspaces(dims, m, shape->dsub, shape->doff);
	for (int j = 0; j < m; j++)
		shape->cboff[j] = ksub * shape->doff[j];
	if (meta.trained)
	{
		ReadFlat(index, meta.centroid_start, shape->centroids, ncent);
		if (ncb > 0)
			ReadFlat(index, meta.codebook_start, shape->codebooks, ncb);
		IvfpqShapeDerive(shape);
	}
	return shape;
}

const IvfpqShape *
IvfpqGetShape(Relation index)
{
	IvfpqMetaPageData meta;

	IvfpqReadMeta(index, &meta);
	return VxNodeCacheGet(&shape_cache, "vectorx ivfpq shapes", index, SameBuild, ReadShape, &meta);
}

/* centroid norms and the transposed codebooks, from centroids and codebooks */
void
IvfpqShapeDerive(IvfpqShape *shape)
{
	int			dims = shape->meta.dims;
	int			ksub = shape->ksub;

	for (uint32 l = 0; l < shape->meta.lists; l++)
		shape->centroid_norms[l] = vx_inner_product(shape->centroids + (Size) l * dims,
													shape->centroids + (Size) l * dims, dims);
	for (int j = 0; j < shape->meta.m; j++)
	{
		const float *cb = shape->codebooks + shape->cboff[j];
		float	   *cbt = shape->codebooks_t + shape->cboff[j];
		int			ds = shape->dsub[j];

		for (int k = 0; k < ksub; k++)
		{
			float		norm = 0;

			for (int t = 0; t < ds; t++)
			{
				cbt[t * ksub + k] = cb[k * ds + t];
				norm += cb[k * ds + t] * cb[k * ds + t];
			}
			shape->codebook_norms[j * ksub + k] = norm;
		}
	}
}
