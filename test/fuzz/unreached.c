/*-------------------------------------------------------------------------
 *
 * unreached.c
 *	  PostgreSQL functions that the files linked into the fuzz targets
 *	  reference but that no path the targets drive reaches: index builds
 *	  and page writes (generic WAL, smgr, extension locks, the INIT fork),
 *	  catalog lookups (operator-class validation), GUC definitions, the
 *	  query-sample files, aggregates and interrupts.  Each is defined here
 *	  only so that the targets link; one that is called prints its name
 *	  and aborts, which the fuzzer reports like any crash.  A change to
 *	  src/ that makes a target reach one needs it implemented in shim.c.
 *	  No PostgreSQL header is included: the functions take no notice of
 *	  their arguments, so they are all declared alike.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

static void
Unreached(const char *name)
{
	fprintf(stderr, "shim: %s is not implemented for the fuzz targets (unreached.c)\n", name);
	abort();
}

#define UNREACHED(name) void name(void); void name(void) { Unreached(#name); }

UNREACHED(AggCheckCallContext)
UNREACHED(AllocateDir)
UNREACHED(check_amop_signature)
UNREACHED(check_amproc_signature)
UNREACHED(CloseTransientFile)
UNREACHED(DefineCustomIntVariable)
UNREACHED(DefineCustomRealVariable)
UNREACHED(DefineCustomStringVariable)
UNREACHED(format_operator)
UNREACHED(format_procedure)
UNREACHED(FreeDir)
UNREACHED(FunctionCall2Coll)
UNREACHED(GenericXLogFinish)
UNREACHED(GenericXLogRegisterBuffer)
UNREACHED(GenericXLogStart)
UNREACHED(GetCurrentTransactionIdIfAny)
UNREACHED(GetTopTransactionIdIfAny)
UNREACHED(LockAcquire)
UNREACHED(LockRelationForExtension)
UNREACHED(LockRelease)
UNREACHED(log_newpage)
UNREACHED(log_newpage_range)
UNREACHED(MakePGDirectory)
UNREACHED(OpenTransientFile)
UNREACHED(PageInit)
UNREACHED(PageSetChecksumInplace)
UNREACHED(pgstat_assoc_relation)
UNREACHED(ProcessInterrupts)
UNREACHED(ReadDirExtended)
UNREACHED(RegisterSubXactCallback)
UNREACHED(ReleaseCatCacheList)
UNREACHED(ReleaseSysCache)
UNREACHED(SearchSysCache1)
UNREACHED(SearchSysCacheList)
UNREACHED(smgrimmedsync)
UNREACHED(smgropen)
UNREACHED(smgrsetowner)
UNREACHED(smgrwrite)
UNREACHED(UnlockRelationForExtension)
