/* SPDX-License-Identifier: MIT
 *
 * mpbench: DPDK 22.11 baselines for Hyperlane's micro benchmarks (bench/Hyperlane.Benchmarks).
 * A bench harness only: compiled at bench time by bench/dpdk/micro.sh into a temporary directory,
 * never shipped with or linked into Hyperlane.
 *
 * On one lcore (the main lcore, which has a mempool cache), with the same sizes as BenchSizes.cs:
 *   mempool  rte_mempool_get_bulk 32 + rte_mempool_put_bulk 32; 16384 x 2048 B, cache 512
 *   mbuf     rte_pktmbuf_alloc_bulk 32 + rte_pktmbuf_free_bulk 32; 16384 mbufs of
 *            RTE_MBUF_DEFAULT_BUF_SIZE, cache 512
 *   ring_spsc / ring_mpmc  rte_ring_{sp,mp}_enqueue_bulk 32 + rte_ring_{sc,mc}_dequeue_bulk 32,
 *            ring of 4096 (a cross-check of ring_perf_autotest)
 * Each test: one untimed warm-up repetition, then REPS timed repetitions of ~MS milliseconds each,
 * timed with rte_rdtsc_precise(). Prints one line per test:
 *   mpbench test=NAME cycles_per_obj=MEDIAN min=.. max=.. ns_per_obj=.. reps=.. iters=.. failures=..
 *           tsc_hz=.. hugepages=0|1
 * where one "obj" is one object taken and returned (cycles for the burst / 32).
 *
 * Usage: mpbench <EAL args> -- [reps [ms]]      (defaults: 7 repetitions of 100 ms)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#define BURST 32
#define POOL_SIZE 16384
#define CACHE_SIZE 512
#define ELT_SIZE 2048
#define RING_SIZE 4096
#define MAX_REPS 64

enum test_kind { T_MEMPOOL, T_MBUF, T_RING_SPSC, T_RING_MPMC };

struct ctx {
	struct rte_mempool *mp;
	struct rte_mempool *pkt;
	struct rte_ring *ring;
	uint64_t failures;
};

/* Runs `iters` bulk round trips of BURST objects; returns elapsed TSC cycles. */
static uint64_t
run(struct ctx *c, enum test_kind kind, uint64_t iters)
{
	void *objs[BURST];
	struct rte_mbuf *mbufs[BURST];
	uint64_t i, start, end;

	memset(objs, 0, sizeof(objs));
	start = rte_rdtsc_precise();
	switch (kind) {
	case T_MEMPOOL:
		for (i = 0; i < iters; i++) {
			if (rte_mempool_get_bulk(c->mp, objs, BURST) != 0) {
				c->failures++;
				continue;
			}
			rte_mempool_put_bulk(c->mp, objs, BURST);
		}
		break;
	case T_MBUF:
		for (i = 0; i < iters; i++) {
			if (rte_pktmbuf_alloc_bulk(c->pkt, mbufs, BURST) != 0) {
				c->failures++;
				continue;
			}
			rte_pktmbuf_free_bulk(mbufs, BURST);
		}
		break;
	case T_RING_SPSC:
		for (i = 0; i < iters; i++) {
			rte_ring_sp_enqueue_bulk(c->ring, objs, BURST, NULL);
			rte_ring_sc_dequeue_bulk(c->ring, objs, BURST, NULL);
		}
		break;
	case T_RING_MPMC:
		for (i = 0; i < iters; i++) {
			rte_ring_mp_enqueue_bulk(c->ring, objs, BURST, NULL);
			rte_ring_mc_dequeue_bulk(c->ring, objs, BURST, NULL);
		}
		break;
	}
	end = rte_rdtsc_precise();
	return end - start;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void
bench(struct ctx *c, enum test_kind kind, const char *name, int reps, double ms)
{
	double per_obj[MAX_REPS];
	uint64_t hz = rte_get_tsc_hz();
	uint64_t iters, cyc;
	int r;

	/* Calibrate (also warms caches and the mempool cache), then one untimed repetition. */
	cyc = run(c, kind, 1 << 14);
	if (cyc == 0)
		cyc = 1;
	iters = (uint64_t)((double)hz * ms / 1000.0 / ((double)cyc / (1 << 14)));
	if (iters < (1 << 14))
		iters = 1 << 14;
	run(c, kind, iters);
	c->failures = 0;

	for (r = 0; r < reps; r++) {
		cyc = run(c, kind, iters);
		per_obj[r] = (double)cyc / ((double)iters * BURST);
	}
	qsort(per_obj, reps, sizeof(per_obj[0]), cmp_double);
	double med = (reps % 2) ? per_obj[reps / 2] : (per_obj[reps / 2 - 1] + per_obj[reps / 2]) / 2.0;
	printf("mpbench test=%s cycles_per_obj=%.4f min=%.4f max=%.4f ns_per_obj=%.4f reps=%d iters=%llu "
	       "failures=%llu tsc_hz=%llu hugepages=%d\n",
	       name, med, per_obj[0], per_obj[reps - 1], med * 1e9 / (double)hz, reps,
	       (unsigned long long)iters, (unsigned long long)c->failures,
	       (unsigned long long)hz, rte_eal_has_hugepages());
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct ctx c;
	int reps = 7;
	double ms = 100.0;
	int n = rte_eal_init(argc, argv);

	if (n < 0) {
		fprintf(stderr, "mpbench: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	if (argc > 1)
		reps = atoi(argv[1]);
	if (argc > 2)
		ms = atof(argv[2]);
	if (reps < 1 || reps > MAX_REPS || ms <= 0) {
		fprintf(stderr, "mpbench: usage: mpbench <EAL args> -- [reps 1..%d [ms]]\n", MAX_REPS);
		return 2;
	}

	memset(&c, 0, sizeof(c));
	c.mp = rte_mempool_create("hlb_mp", POOL_SIZE, ELT_SIZE, CACHE_SIZE, 0,
				  NULL, NULL, NULL, NULL, rte_socket_id(), 0);
	c.pkt = rte_pktmbuf_pool_create("hlb_pkt", POOL_SIZE, CACHE_SIZE, 0,
					RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	c.ring = rte_ring_create("hlb_ring", RING_SIZE, rte_socket_id(), 0);
	if (c.mp == NULL || c.pkt == NULL || c.ring == NULL) {
		fprintf(stderr, "mpbench: cannot create pools/ring: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rte_mempool_default_cache(c.mp, rte_lcore_id()) == NULL) {
		fprintf(stderr, "mpbench: lcore %u has no mempool cache\n", rte_lcore_id());
		return 1;
	}
	printf("mpbench lcore=%u pool=%u elt=%u cache=%u mbuf_elt=%u burst=%d reps=%d ms=%.0f\n",
	       rte_lcore_id(), POOL_SIZE, ELT_SIZE, CACHE_SIZE, c.pkt->elt_size, BURST, reps, ms);

	bench(&c, T_MEMPOOL, "mempool_bulk32_cache512", reps, ms);
	bench(&c, T_MBUF, "mbuf_allocfree_bulk32_cache512", reps, ms);
	bench(&c, T_RING_SPSC, "ring_spsc_bulk32", reps, ms);
	bench(&c, T_RING_MPMC, "ring_mpmc_bulk32", reps, ms);

	rte_ring_free(c.ring);
	rte_mempool_free(c.pkt);
	rte_mempool_free(c.mp);
	rte_eal_cleanup();
	return 0;
}
