/*-------------------------------------------------------------------------
 *
 * filterprivate.c
 *	  The filtered-search plan's private data (VxFilterPrivate, filter.h)
 *	  as the node list a CustomScan carries in custom_private: written by
 *	  the planner (filterplan.c), read by the executor node (filterexec.c).
 *	  Both sides go through the two functions here, so the slot order is
 *	  written down once; floats travel as float8 Consts, which copyObject
 *	  and outfuncs keep bit for bit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"

#include "filter.h"

/* positions in custom_private (VxFilterPrivate, filter.h) */
enum
{
	PRIV_STRATEGY,				/* Integer */
	PRIV_FORCED,				/* Boolean */
	PRIV_SELECTIVITY,			/* float8 Const */
	PRIV_BOUND,					/* Integer */
	PRIV_ROLES,					/* List of Integer */
	PRIV_PREMAX,				/* float8 Const */
	PRIV_INMAX,					/* float8 Const */
	PRIV_PREIN,					/* float8 Const */
	PRIV_PROBE,					/* float8 Const */
	PRIV_K,						/* Integer */
	PRIV_NOTE,					/* String */
	PRIV_ORDERBY,				/* Expr */
	PRIV_COUNT
};

/* a float8 as a node that copyObject and outfuncs keep bit for bit */
static Node *
Float8Node(double value)
{
	return (Node *) makeConst(FLOAT8OID, -1, InvalidOid, sizeof(float8),
							  Float8GetDatum(value), false, FLOAT8PASSBYVAL);
}

static double
NodeFloat8(Node *node)
{
	return DatumGetFloat8(castNode(Const, node)->constvalue);
}

List *
VxFilterPrivateToList(const VxFilterPrivate *priv)
{
	Node	   *slots[PRIV_COUNT];
	List	   *list = NIL;

	slots[PRIV_STRATEGY] = (Node *) makeInteger(priv->strategy);
	slots[PRIV_FORCED] = (Node *) makeBoolean(priv->forced);
	slots[PRIV_SELECTIVITY] = Float8Node(priv->selectivity);
	slots[PRIV_BOUND] = (Node *) makeInteger(priv->bound);
	slots[PRIV_ROLES] = (Node *) priv->roles;
	slots[PRIV_PREMAX] = Float8Node(priv->premax);
	slots[PRIV_INMAX] = Float8Node(priv->inmax);
	slots[PRIV_PREIN] = Float8Node(priv->prein);
	slots[PRIV_PROBE] = Float8Node(priv->probe);
	slots[PRIV_K] = (Node *) makeInteger(priv->k);
	slots[PRIV_NOTE] = (Node *) makeString(pstrdup(priv->note));
	slots[PRIV_ORDERBY] = (Node *) priv->orderby;
	for (int i = 0; i < PRIV_COUNT; i++)
		list = lappend(list, slots[i]);
	return list;
}

void
VxFilterPrivateFromList(List *list, VxFilterPrivate *priv)
{
	Assert(list_length(list) == PRIV_COUNT);
	priv->strategy = intVal(list_nth(list, PRIV_STRATEGY));
	priv->forced = boolVal(list_nth(list, PRIV_FORCED));
	priv->selectivity = NodeFloat8(list_nth(list, PRIV_SELECTIVITY));
	priv->bound = intVal(list_nth(list, PRIV_BOUND));
	priv->roles = (List *) list_nth(list, PRIV_ROLES);
	priv->premax = NodeFloat8(list_nth(list, PRIV_PREMAX));
	priv->inmax = NodeFloat8(list_nth(list, PRIV_INMAX));
	priv->prein = NodeFloat8(list_nth(list, PRIV_PREIN));
	priv->probe = NodeFloat8(list_nth(list, PRIV_PROBE));
	priv->k = intVal(list_nth(list, PRIV_K));
	priv->note = strVal(list_nth(list, PRIV_NOTE));
	priv->orderby = (Expr *) list_nth(list, PRIV_ORDERBY);
}
