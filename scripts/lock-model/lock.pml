/*
 * Verity's three-strike lock for ONE subject, for the spin model checker.
 * Run it with scripts/check-lock-model; README.md next to this file explains it.
 *
 * What each step stands for in the Swift code. The lock is CheckLock
 * (Sources/VerityCore/Model/CheckLock.swift), used by CredentialService.check
 * (Sources/VerityCore/Service/CredentialService+Verification.swift) through
 * CredentialStore.modify. Every "txn" is one store transaction (SQLite BEGIN IMMEDIATE,
 * PostgreSQL row lock), and one atomic{} block here:
 *
 *   Reserve        (txn)  CheckLock.reserve: fold stale reservations, then refuse or reserve
 *   Evaluate       (none) the hashing of the secret between the two transactions
 *                         (CredentialService.evaluate)
 *   FinishMatch    (txn)  CheckLock.finish(..., matched: true)
 *   FinishMismatch (txn)  CheckLock.finish(..., matched: false), also used for an error that
 *                         happens after the reservation (Evaluation.failed)
 *   Unblock        (txn)  CredentialService.unblock: BLOCKED -> ACTIVE, CheckLock.reset
 *   SetSecurityDetails (txn)  CredentialService.setSecurityDetails: -> ACTIVE, CheckLock.reset
 *   ApplyDefaults  (txn)  CredentialService.applyDefaults: -> DEFAULTS_APPLIED, CheckLock.reset
 *   Crash                 a server instance dies: its checks in flight vanish, their
 *                         reservations stay in the (durable) database; the instance restarts
 *
 * The database row: state (ACTIVE, BLOCKED, DEFAULTS_APPLIED; NOT_SET_UP acts as the last),
 * failureSerial (fs), clearedSerial (cs), and the pending reservations {owner, seenSerial}.
 * The consecutive failure count is fs - cs (the Swift row stores consecutiveFailures, so
 * cs = failureSerial - consecutiveFailures there).
 *
 * Abstraction of time. The real code folds a reservation that is older than longestCheck,
 * the longest a check can take (VerityServer: maximum deadline + 2 store busy timeouts + 30 s
 * of hashing). A live check finishes within that bound, so the only reservations that get
 * that old are those of checks that died in a crash. Here a reservation may be folded
 * (nondeterministically, any subset, at any Reserve) exactly when its owner's instance has
 * crashed since it was made. -DMUTANT_FOLD_LIVE drops that assumption.
 *
 * Representation.
 * - A live check's reservation is held in rUsed/rSeen[worker]. When an instance crashes, the
 *   reservations of its checks move to a pool of dead reservations, kept as two counters (the
 *   secret was / was not evaluated wrong before the crash): a dead reservation is never
 *   finished, only folded, and folding needs neither its owner nor its seenSerial.
 * - A worker's progress (IDLE / RESERVED / EVALUATED) is the global phase[w], so that a crash
 *   can make an instance's checks vanish in one step; its workers then serve new checks
 *   (the restart). The right or wrong secret is chosen at Evaluate.
 * - Serials are kept relative: after every transaction they are shifted so that cs = 0
 *   (NORMALIZE). This is exact, because only differences matter and cs never decreases.
 *
 * Bounds (all #defines below, overridable with -D): L = 3 attempts; NINST = 2 instances with
 * PER_INST = 2 concurrent checks each (4 worker processes); MAXCHECKS = 8 checks in all,
 * MAXCRASH = 2 crashes, MAXUNBLOCK = 2 unblocks, MAXDETAILS = 2 SetSecurityDetails or
 * ApplyDefaults.
 *
 * Properties (assertions; spin also reports invalid end states):
 *   P1  wrongSinceReset <= L: wrong secrets evaluated since the last VERIFIED or reset.
 *   P1s unforgiven <= L: wrong secrets evaluated and not legitimately forgiven (see README).
 *   P1a answeredSinceReset <= L: wrong secrets answered MISMATCH since the last VERIFIED or reset.
 *   P2  every acknowledged failure (MISMATCH answered, or a lost reservation folded) is still
 *       counted in fs - cs unless legitimately cleared: fs - cs >= gAcked - gLegit.
 *   P3  VERIFIED is never answered while the state is not ACTIVE.
 *   P4  at the end of every transaction: ACTIVE implies fs - cs < L.
 *   P5  every transition to BLOCKED has a reason, and L acknowledged failures not
 *       legitimately cleared behind it.
 *   P6  (with -DP6_CREDENTIALS) VERIFIED only against the secrets stored when it is answered.
 *       -DFIX_STALE_CREDENTIALS models what CheckLock.finish does (its `compared` hashes must
 *       still be stored, else .credentialsChangedMeanwhile); scripts/check-lock-model checks the
 *       protocol with it, and checks that without it spin still finds the race.
 *
 * Mutants, each selected with -D (spin -DMUTANT_x -a lock.pml); each must FAIL:
 *   MUTANT_CLEAR_ALL      a success clears every failure, not only those its reservation saw
 *   MUTANT_NO_PENDING     Reserve ignores the pending reservations
 *   MUTANT_STALE_BLOCK    a failure decides to block from the count seen at reservation time
 *   MUTANT_FOLD_UNCOUNTED folding a lost reservation does not count a failure
 *   MUTANT_FOLD_LIVE      (breaks the timing assumption) a live check's reservation may be folded
 */

#ifndef L
#define L 3
#endif
#ifndef NINST
#define NINST 2
#endif
#ifndef PER_INST
#define PER_INST 2
#endif
#define NWORKER (NINST * PER_INST)
#ifndef MAXCHECKS
#define MAXCHECKS 8
#endif
#ifndef MAXCRASH
#define MAXCRASH 2
#endif
#ifndef MAXUNBLOCK
#define MAXUNBLOCK 2
#endif
#ifndef MAXDETAILS
#define MAXDETAILS 2
#endif

mtype = { ACTIVE, BLOCKED, DEFAULTS_APPLIED };     /* subject state */
mtype = { NONE, BY_MISMATCH, BY_LOST };             /* why BLOCKED (ghost) */
#define IDLE 0
#define RESERVED 1
#define EVALUATED 2

/* ---- the database row ---- */
mtype state = ACTIVE;
byte fs = 0;                 /* failureSerial */
byte cs = 0;                 /* clearedSerial */
byte pending = 0;            /* number of pending reservations, live and dead */
bool rUsed[NWORKER];         /* worker w's check holds a reservation */
byte rSeen[NWORKER];         /* ... and its seenSerial */
byte deadWrong = 0;          /* reservations of crashed checks that had evaluated a wrong secret */
byte deadOther = 0;          /* reservations of crashed checks that had not */

/* ---- the environment ---- */
byte phase[NWORKER];         /* worker w: IDLE, or its check has RESERVED / EVALUATED */
byte checksLeft = MAXCHECKS;
byte crashesLeft = MAXCRASH;
byte unblocksLeft = MAXUNBLOCK;
byte detailsLeft = MAXDETAILS;  /* SetSecurityDetails + ApplyDefaults */

/* ---- ghosts (not in the database; only for the properties) ---- */
bool rWrong[NWORKER];        /* worker w's check has evaluated a wrong secret */
byte gSeen[NWORKER];         /* gAcked when worker w's check reserved */
byte gAcked = 0;             /* acknowledged failures ever (MISMATCH answers + folds) */
byte gLegit = 0;             /* acknowledged failures 1..gLegit are legitimately cleared */
bool gWrongAt[MAXCHECKS + 1];/* acknowledged failure k came from a wrong secret, not yet forgiven */
byte wrongSinceReset = 0;    /* P1: wrong evaluations since the last VERIFIED or reset */
byte answeredSinceReset = 0; /* P1a: MISMATCH answers to wrong secrets since then */
byte unforgiven = 0;         /* P1s: wrong evaluations not legitimately forgiven */
mtype blockReason = NONE;    /* P5 */
bool verified = false;       /* P3: the Finish being executed answers VERIFIED */

#define CONSEC (fs - cs)

#ifdef P6_CREDENTIALS
byte credVer = 0;            /* P6: version of the stored secrets */
byte rVer[NWORKER];          /* ... that worker w's check compares against (read at Reserve) */
#define READ_CREDENTIALS rVer[me] = credVer
#define NEW_CREDENTIALS credVer++
#define FORGET_CREDENTIALS(w) rVer[w] = 0
#else
#define READ_CREDENTIALS skip
#define NEW_CREDENTIALS skip
#define FORGET_CREDENTIALS(w) skip
#endif

/* CheckLock.reset: every recorded failure is cleared (a legitimate clearing: all of them). */
#define RESET \
    cs = fs; \
    FORGIVE(gAcked); \
    wrongSinceReset = 0; answeredSinceReset = 0

/*
 * Only differences of serials matter (fs - cs, max(cs, seen), and likewise for the ghosts), and
 * cs never decreases, so a seenSerial below cs acts exactly as cs. At the end of every step the
 * serials are therefore shifted so that cs = 0 (and gLegit = 0): the same situation reached
 * after a different number of failures is one state, not many.
 */
byte nw;
#define NORMALIZE \
    nw = 0; \
    do \
    :: nw < NWORKER -> \
        if :: rSeen[nw] > cs -> rSeen[nw] = rSeen[nw] - cs :: else -> rSeen[nw] = 0 fi; \
        if :: gSeen[nw] > gLegit -> gSeen[nw] = gSeen[nw] - gLegit :: else -> gSeen[nw] = 0 fi; \
        nw++ \
    :: else -> break \
    od; \
    nw = 1; \
    do \
    :: nw + gLegit <= MAXCHECKS -> gWrongAt[nw] = gWrongAt[nw + gLegit]; nw++ \
    :: nw + gLegit > MAXCHECKS && nw <= MAXCHECKS -> gWrongAt[nw] = false; nw++ \
    :: else -> break \
    od; \
    nw = 0; \
    fs = fs - cs; cs = 0; \
    gAcked = gAcked - gLegit; gLegit = 0

/* P4, P5 and P2, checked at the end of every transaction. */
#define INVARIANTS \
    assert(state != ACTIVE || CONSEC < L);                     /* P4 */ \
    assert(state != BLOCKED || blockReason != NONE);           /* P5 */ \
    assert(CONSEC >= gAcked - gLegit);                         /* P2 */ \
    NORMALIZE

/* State becomes BLOCKED because of the failure just acknowledged. */
#define BLOCK(why) \
    assert(gAcked - gLegit >= L);                              /* P5: L failures behind it */ \
    state = BLOCKED; blockReason = why

/* Legitimate clearing of acknowledged failures 1..upTo (ghost only). */
byte gk;
#define FORGIVE(upTo) \
    gk = gLegit + 1; \
    do \
    :: gk <= upTo -> \
        if \
        :: gWrongAt[gk] -> gWrongAt[gk] = false; unforgiven-- \
        :: else -> skip \
        fi; \
        gk++ \
    :: else -> break \
    od; \
    gk = 0; \
    if \
    :: upTo > gLegit -> gLegit = upTo \
    :: else -> skip \
    fi

/* A failure is recorded; `wrong` says whether a wrong secret was evaluated for it. */
#ifdef MUTANT_FOLD_UNCOUNTED
#define FOLD_COUNT skip
#else
#define FOLD_COUNT fs++
#endif
#define FOLD(wrong) \
    pending--; FOLD_COUNT; gAcked++; gWrongAt[gAcked] = wrong; \
    if \
    :: state == ACTIVE && CONSEC >= L -> BLOCK(BY_LOST) \
    :: else -> skip \
    fi

/* Reserve, first part: fold any subset of the stale (dead) reservations. */
#define FOLD_STALE \
    do \
    :: deadWrong > 0 -> deadWrong--; FOLD(true) \
    :: deadOther > 0 -> deadOther--; FOLD(false) \
    :: break \
    od; \
    FOLD_LIVE

/* MUTANT_FOLD_LIVE: a live check overran the bound, and its reservation is folded too. */
#ifdef MUTANT_FOLD_LIVE
byte fw;
#define FOLD_LIVE \
    do \
    :: fw < NWORKER && rUsed[fw] -> rUsed[fw] = false; FOLD(rWrong[fw]); break \
    :: fw < NWORKER -> fw++ \
    :: else -> break \
    od; \
    fw = 0
#else
#define FOLD_LIVE skip
#endif

#ifdef MUTANT_NO_PENDING
#define IN_USE CONSEC
#else
#define IN_USE (CONSEC + pending)
#endif

#ifdef MUTANT_STALE_BLOCK
#define LIMIT_REACHED (rSeen[me] + 1 - cs >= L)
#else
#define LIMIT_REACHED (CONSEC >= L)
#endif

/*
 * One of the concurrent checks an instance runs: a loop of checks, each Reserve -> Evaluate ->
 * Finish. Its progress is the global phase[me], so that a crash can make it vanish.
 */
proctype Worker(byte me)
{
    do
    :: atomic {                         /* Reserve (txn): CheckLock.reserve */
        phase[me] == IDLE && checksLeft > 0 -> checksLeft--;
        FOLD_STALE;
        if
        :: state == BLOCKED -> skip                         /* answer BLOCKED, nothing evaluated */
        :: state == DEFAULTS_APPLIED -> skip                /* answer NOT_SET_UP */
        :: state == ACTIVE && IN_USE >= L -> skip           /* answer ABORTED, nothing evaluated */
        :: else ->
            rUsed[me] = true; rSeen[me] = fs; gSeen[me] = gAcked; pending++;
            READ_CREDENTIALS;
            phase[me] = RESERVED
        fi;
        INVARIANTS
       }
    :: atomic {                         /* Evaluate (no txn): the hashing */
        phase[me] == RESERVED -> phase[me] = EVALUATED;
        if
        :: rWrong[me] = false                               /* the right secret */
        :: rWrong[me] = true;                               /* a wrong secret */
            wrongSinceReset++; unforgiven++;
            assert(wrongSinceReset <= L);                   /* P1 */
            assert(unforgiven <= L)                         /* P1s */
        fi
       }
    :: atomic {                         /* FinishMatch / FinishMismatch (txn): CheckLock.finish */
        phase[me] == EVALUATED -> phase[me] = IDLE;
        if
        :: !rUsed[me] -> skip                               /* folded meanwhile: error, no change */
#ifdef FIX_STALE_CREDENTIALS
        :: rUsed[me] && !rWrong[me] && rVer[me] != credVer ->
            rUsed[me] = false; pending--                    /* the secrets changed meanwhile: not verified */
        :: rUsed[me] && !rWrong[me] && rVer[me] == credVer -> /* FinishMatch */
#else
        :: rUsed[me] && !rWrong[me] ->                      /* FinishMatch */
#endif
            rUsed[me] = false; pending--;
            if
            :: state == ACTIVE ->
#ifdef P6_CREDENTIALS
                assert(rVer[me] == credVer);                /* P6 */
#endif
#ifdef MUTANT_CLEAR_ALL
                cs = fs;
#else
                if :: rSeen[me] > cs -> cs = rSeen[me] :: else -> skip fi;
#endif
                FORGIVE(gSeen[me]);
                wrongSinceReset = 0; answeredSinceReset = 0;
                verified = true                             /* answer VERIFIED */
            :: else -> skip               /* not ACTIVE meanwhile: answer BLOCKED (Finish.blockedMeanwhile) */
            fi;
            assert(!verified || state == ACTIVE);           /* P3 */
            verified = false;
            INVARIANTS
        :: rUsed[me] ->                                     /* FinishMismatch */
            /* a wrong secret, or (with the right one) an error after the reservation */
            rUsed[me] = false; pending--;
            fs++; gAcked++; gWrongAt[gAcked] = rWrong[me];
            if
            :: state == ACTIVE && LIMIT_REACHED -> BLOCK(BY_MISMATCH)
            :: else -> skip
            fi;                                             /* answer MISMATCH */
            if
            :: rWrong[me] -> answeredSinceReset++;
                assert(answeredSinceReset <= L)             /* P1a */
            :: else -> skip
            fi;
            INVARIANTS
        fi;
        rSeen[me] = 0; gSeen[me] = 0; rWrong[me] = false; FORGET_CREDENTIALS(me)
       }
    :: atomic { phase[me] == IDLE && checksLeft == 0 -> break }
    od
}

/* Crash: an instance dies with its checks in flight (their reservations stay), and restarts. */
proctype Crasher()
{
    byte i, w;
    do
    :: atomic {
        crashesLeft > 0 -> crashesLeft--;
        select(i : 0 .. NINST - 1);
        w = i * PER_INST;
        do
        :: w < (i + 1) * PER_INST ->
            if
            :: rUsed[w] && rWrong[w] -> deadWrong++
            :: rUsed[w] && !rWrong[w] -> deadOther++
            :: else -> skip
            fi;
            phase[w] = IDLE; rUsed[w] = false; rSeen[w] = 0; gSeen[w] = 0; rWrong[w] = false;
            FORGET_CREDENTIALS(w);
            w++
        :: else -> break
        od;
        i = 0; w = 0
       }
    :: break
    od
}

/*
 * The administrative steps that call CheckLock.reset, each one transaction:
 *   Unblock            CredentialService.unblock: BLOCKED -> ACTIVE
 *   SetSecurityDetails CredentialService.setSecurityDetails: not BLOCKED -> ACTIVE, new secrets
 *   ApplyDefaults      CredentialService.applyDefaults: not BLOCKED -> DEFAULTS_APPLIED, no secrets
 * Checks in flight keep their reservations through all three.
 */
proctype Admin()
{
    do
    :: atomic {                         /* Unblock */
        unblocksLeft > 0 && state == BLOCKED -> unblocksLeft--;
        state = ACTIVE; blockReason = NONE;
        RESET;
        INVARIANTS
       }
    :: atomic {                         /* SetSecurityDetails */
        detailsLeft > 0 && state != BLOCKED -> detailsLeft--;
        state = ACTIVE; NEW_CREDENTIALS;
        RESET;
        INVARIANTS
       }
    :: atomic {                         /* ApplyDefaults */
        detailsLeft > 0 && state != BLOCKED -> detailsLeft--;
        state = DEFAULTS_APPLIED; NEW_CREDENTIALS;
        RESET;
        INVARIANTS
       }
    :: break
    od
}

init {
    byte w;
    atomic {
        do
        :: w < NWORKER -> run Worker(w); w++
        :: else -> break
        od;
        w = 0;
        run Crasher();
        run Admin()
    }
}
