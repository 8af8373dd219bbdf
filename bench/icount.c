// SPDX-License-Identifier: GPL-2.0
/*
 * icount: a QEMU TCG plugin that counts the guest instructions the
 * benchmark executes between two marker instructions, on the vCPU that
 * executed them, split by where they ran (user space, the kernel, each
 * module) and by kernel symbol.  Written against the qemu-plugin.h of
 * Debian 12's QEMU 7.2 (plugin API version 1); see make bench-icount and
 * Documentation/benchmark.md.
 *
 *   qemu-system-x86_64 ... -plugin icount.so,kallsyms=FILE,out=FILE
 *
 * The markers.  A marker is "nopl 0x5254CCNN(%rax)", encoded
 * 0f 1f 80 NN CC 54 52: a 7-byte NOP whose displacement compilers never
 * emit (they pad with a zero displacement), so the kernel and the
 * libraries never execute one.  CC is the command, NN its operand:
 *
 *   CC 1  ID_RESET    the vCPU's pending region id := 0
 *   CC 2  ID_BIT n    pending region id |= 1 << n
 *   CC 3  START       start a batch of the pending region on this vCPU
 *   CC 4  STOP        end the batch (kept if clean, see below)
 *   CC 5  DUMP        write the results file now
 *
 * Batches.  Between START and STOP every instruction this vCPU executes
 * is counted, whatever runs on it (the benchmark, the kernel on its
 * behalf, an interrupt).  A batch during which the vCPU entered an
 * interrupt handler (an asm_sysvec_* or asm_common_interrupt entry) or
 * switched tasks (__switch_to_asm) is dirty: it is counted as such and
 * left out, so that timer ticks, IPIs and other tasks, whose number
 * depends on how fast the host ran, do not blur the counts.  A clean
 * batch is exact: each translated block's instructions are counted when
 * it starts executing.  rep-prefixed string instructions are counted
 * once per iteration, as TCG executes them.
 *
 * Where.  At the first START the plugin reads FILE (kallsyms=): the text
 * symbols of the guest's /proc/kallsyms, "ADDR TYPE NAME [MODULE]", as
 * written by bench/guest-icount.sh.  An instruction belongs to the symbol
 * at or below its address: to a module if that symbol is the module's,
 * to the kernel otherwise; below the kernel half it is user space.
 *
 * The results file (out=) is rewritten at each DUMP and at exit:
 *
 *   region R batches N dirty_irq N dirty_switch N total N min N median N max N
 *   cat R WHERE N                 WHERE: user, kernel or a module's name
 *   sym R NAME MODULE N           MODULE: "-" for the kernel
 *
 * with N summed over the clean batches of region R.
 *
 * Profile mode (profile=FILE; kallsyms= and out= then optional): every
 * instruction every vCPU executes is counted, per translated block, the
 * whole run, whatever runs: no batches, no markers needed.  FILE gets
 * "user N" and then "VA N LEN" per kernel block (its address, the
 * instructions it executed, its length), at exit and, as FILE.K for the
 * K-th DUMP marker (K = 0, 1, ...), at each DUMP, so that the difference
 * of two dumps is what ran between them.  bench/icount_report.py
 * --profile attributes it to the symbols of a System.map.  This is how
 * the debug kernel's cost under TCG was found (README, "The two
 * commands", the debug phase).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MARK_LEN	7
#define MAX_REGIONS	4096
#define KERNEL_HALF	0xffff800000000000ULL

enum { CMD_ID_RESET = 1, CMD_ID_BIT, CMD_START, CMD_STOP, CMD_DUMP };

/* Where an instruction ran: user, kernel, or module 2.. (mods[i - 2]). */
enum { WHERE_USER, WHERE_KERNEL, WHERE_MOD0 };
#define MAX_WHERE	64

/* Symbol flags. */
#define SYM_IRQ		1	/* an interrupt entry: the batch is dirty */
#define SYM_SWITCH	2	/* a task switch: the batch is dirty */

struct sym {
	uint64_t addr;
	char *name;
	uint16_t where;
	uint8_t flags;
};

/* A run of instructions of one translated block in one symbol. */
struct run {
	uint32_t sym;
	uint32_t n;
};

/*
 * A kernel block: its instructions' addresses, resolved to runs when it
 * first executes in a batch after the symbols were loaded.
 */
struct ktb {
	uint32_t n;
	uint32_t nruns;
	struct run *runs;
	int resolved;		/* 0 or 1, read with acquire */
	uint64_t all;		/* profile mode: instructions executed */
	uint64_t va[];
};

struct region {
	uint64_t batches, dirty_irq, dirty_switch, total;
	uint64_t where[MAX_WHERE];
	uint64_t *syms;		/* per symbol, nsyms + 1 (last: user) */
	uint64_t *tot;		/* each clean batch's total */
	size_t ntot, cap;
};

struct vcpu {
	bool counting;
	uint8_t dirty;
	uint32_t pending;	/* region id being assembled */
	uint32_t region;
	uint64_t total;
	uint64_t where[MAX_WHERE];
	uint64_t *syms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *kallsyms_path, *out_path, *profile_path;
static uint64_t profile_user;		/* profile mode: user instructions */
static struct ktb **profile_tbs;	/* profile mode: every kernel block */
static size_t profile_n, profile_cap;
static int profile_dumps;
static struct sym *syms;
static size_t nsyms;
static bool syms_loaded;
static char *mods[MAX_WHERE - WHERE_MOD0];
static size_t nmods;
static struct vcpu *vcpus;
static int nvcpus;
static struct region *regions[MAX_REGIONS];

static void fail(const char *msg)
{
	fprintf(stderr, "icount plugin: %s\n", msg);
	exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		fail("out of memory");
	return p;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static uint16_t where_of(const char *mod)
{
	size_t i;

	if (!mod)
		return WHERE_KERNEL;
	for (i = 0; i < nmods; i++)
		if (!strcmp(mods[i], mod))
			return WHERE_MOD0 + i;
	if (nmods == MAX_WHERE - WHERE_MOD0)
		fail("too many modules");
	mods[nmods] = strdup(mod);
	return WHERE_MOD0 + nmods++;
}

static bool is_irq_entry(const char *name)
{
	return !strncmp(name, "asm_sysvec_", 11) ||
	       !strcmp(name, "asm_common_interrupt") ||
	       !strcmp(name, "asm_spurious_interrupt");
}

/* Called with lock held, once. */
static void load_syms(void)
{
	char line[512], name[256], mod[128], type;
	size_t cap = 1 << 15;
	uint64_t addr;
	FILE *f;
	int k;

	syms_loaded = true;
	f = fopen(kallsyms_path, "r");
	if (!f) {
		fprintf(stderr, "icount plugin: cannot open %s: counting without symbols\n",
			kallsyms_path);
		return;
	}
	syms = xcalloc(cap, sizeof(*syms));
	while (fgets(line, sizeof(line), f)) {
		mod[0] = 0;
		k = sscanf(line, "%" SCNx64 " %c %255s [%127[^]]]", &addr,
			   &type, name, mod);
		if (k < 3 || !strchr("tTwW", type) || addr < KERNEL_HALF)
			continue;
		if (nsyms == cap) {
			cap *= 2;
			syms = realloc(syms, cap * sizeof(*syms));
			if (!syms)
				fail("out of memory");
		}
		syms[nsyms].addr = addr;
		syms[nsyms].name = strdup(name);
		syms[nsyms].where = where_of(k == 4 ? mod : NULL);
		syms[nsyms].flags = is_irq_entry(name) ? SYM_IRQ :
				    !strcmp(name, "__switch_to_asm") ?
				    SYM_SWITCH : 0;
		nsyms++;
	}
	fclose(f);
	qsort(syms, nsyms, sizeof(*syms), sym_cmp);
	for (k = 0; k < nvcpus; k++)
		vcpus[k].syms = xcalloc(nsyms + 1, sizeof(uint64_t));
	fprintf(stderr, "icount plugin: %zu text symbols, %zu modules from %s\n",
		nsyms, nmods, kallsyms_path);
}

/* The symbol at or below @va; nsyms for user space or no symbol. */
static uint32_t sym_of(uint64_t va)
{
	size_t lo = 0, hi = nsyms;

	if (va < KERNEL_HALF || !nsyms || va < syms[0].addr)
		return nsyms;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (syms[mid].addr <= va)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static void resolve(struct ktb *t)
{
	struct run *runs;
	uint32_t i, n = 0, s, last = UINT32_MAX;

	pthread_mutex_lock(&lock);
	if (__atomic_load_n(&t->resolved, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&lock);
		return;
	}
	runs = xcalloc(t->n, sizeof(*runs));
	for (i = 0; i < t->n; i++) {
		s = sym_of(t->va[i]);
		if (n && s == last) {
			runs[n - 1].n++;
		} else {
			runs[n].sym = s;
			runs[n].n = 1;
			n++;
		}
		last = s;
	}
	t->runs = runs;
	t->nruns = n;
	__atomic_store_n(&t->resolved, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
}

/* User-space blocks carry their length in a tagged pointer. */
static inline void *user_ud(size_t n)
{
	return (void *)(uintptr_t)((n << 1) | 1);
}

static void count_user(struct vcpu *v, uint64_t n)
{
	v->total += n;
	v->where[WHERE_USER] += n;
	if (v->syms)
		v->syms[nsyms] += n;
}

static void count_ktb(struct vcpu *v, struct ktb *t)
{
	uint32_t i;

	if (!__atomic_load_n(&t->resolved, __ATOMIC_ACQUIRE))
		resolve(t);
	for (i = 0; i < t->nruns; i++) {
		const struct run *r = &t->runs[i];

		v->total += r->n;
		if (r->sym < nsyms) {
			const struct sym *s = &syms[r->sym];

			v->where[s->where] += r->n;
			v->syms[r->sym] += r->n;
			if (s->flags & SYM_IRQ)
				v->dirty |= SYM_IRQ;
			if (s->flags & SYM_SWITCH)
				v->dirty |= SYM_SWITCH;
		} else {
			v->where[WHERE_KERNEL] += r->n;
		}
	}
}

static void tb_exec(unsigned int vcpu_index, void *ud)
{
	struct vcpu *v = &vcpus[vcpu_index];

	if (!v->counting)
		return;
	if ((uintptr_t)ud & 1)
		count_user(v, (uintptr_t)ud >> 1);
	else
		count_ktb(v, ud);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Called with lock held. */
static void dump(void)
{
	char tmp[4096];
	uint64_t *sorted;
	struct region *r;
	size_t i, j;
	FILE *f;

	if (!out_path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", out_path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "icount plugin: cannot write %s\n", tmp);
		return;
	}
	fprintf(f, "# icount v1: %zu symbols\n", nsyms);
	for (i = 0; i < MAX_REGIONS; i++) {
		r = regions[i];
		if (!r)
			continue;
		sorted = xcalloc(r->ntot, sizeof(uint64_t));
		memcpy(sorted, r->tot, r->ntot * sizeof(uint64_t));
		qsort(sorted, r->ntot, sizeof(uint64_t), u64_cmp);
		fprintf(f, "region %zu batches %" PRIu64 " dirty_irq %" PRIu64
			" dirty_switch %" PRIu64 " total %" PRIu64 " min %" PRIu64
			" median %" PRIu64 " max %" PRIu64 "\n", i, r->batches,
			r->dirty_irq, r->dirty_switch, r->total,
			r->ntot ? sorted[0] : 0,
			r->ntot ? sorted[r->ntot / 2] : 0,
			r->ntot ? sorted[r->ntot - 1] : 0);
		free(sorted);
		for (j = 0; j < WHERE_MOD0 + nmods; j++)
			if (r->where[j])
				fprintf(f, "cat %zu %s %" PRIu64 "\n", i,
					j == WHERE_USER ? "user" :
					j == WHERE_KERNEL ? "kernel" :
					mods[j - WHERE_MOD0], r->where[j]);
		for (j = 0; r->syms && j < nsyms; j++)
			if (r->syms[j])
				fprintf(f, "sym %zu %s %s %" PRIu64 "\n", i,
					syms[j].name,
					syms[j].where >= WHERE_MOD0 ?
					mods[syms[j].where - WHERE_MOD0] : "-",
					r->syms[j]);
	}
	fclose(f);
	if (rename(tmp, out_path))
		fprintf(stderr, "icount plugin: cannot rename %s\n", tmp);
}

static void batch_end(struct vcpu *v)
{
	struct region *r;
	size_t j;

	pthread_mutex_lock(&lock);
	r = regions[v->region];
	if (!r) {
		r = regions[v->region] = xcalloc(1, sizeof(*r));
		r->syms = xcalloc(nsyms + 1, sizeof(uint64_t));
	}
	if (v->dirty & SYM_IRQ) {
		r->dirty_irq++;
	} else if (v->dirty & SYM_SWITCH) {
		r->dirty_switch++;
	} else {
		r->batches++;
		r->total += v->total;
		for (j = 0; j < MAX_WHERE; j++)
			r->where[j] += v->where[j];
		for (j = 0; v->syms && j <= nsyms; j++)
			r->syms[j] += v->syms[j];
		if (r->ntot == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 64;
			r->tot = realloc(r->tot, r->cap * sizeof(uint64_t));
			if (!r->tot)
				fail("out of memory");
		}
		r->tot[r->ntot++] = v->total;
	}
	pthread_mutex_unlock(&lock);
}

/* Profile mode: write the counts so far to @path (lock held). */
static void dump_profile(const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f) {
		fprintf(stderr, "icount plugin: cannot write %s\n", path);
		return;
	}
	fprintf(f, "user %" PRIu64 "\n", __atomic_load_n(&profile_user, __ATOMIC_RELAXED));
	for (i = 0; i < profile_n; i++) {
		const struct ktb *t = profile_tbs[i];
		uint64_t all = __atomic_load_n(&t->all, __ATOMIC_RELAXED);

		if (all)
			fprintf(f, "%" PRIx64 " %" PRIu64 " %" PRIu32 "\n", t->va[0], all, t->n);
	}
	fclose(f);
}

static void marker_exec(unsigned int vcpu_index, void *ud)
{
	unsigned int cmd = ((uintptr_t)ud >> 8) & 0xff, arg = (uintptr_t)ud & 0xff;
	struct vcpu *v = &vcpus[vcpu_index];

	switch (cmd) {
	case CMD_ID_RESET:
		v->pending = 0;
		break;
	case CMD_ID_BIT:
		if (arg < 12)
			v->pending |= 1u << arg;
		break;
	case CMD_START:
		if (!kallsyms_path)
			break;	/* profile mode only */
		pthread_mutex_lock(&lock);
		if (!syms_loaded)
			load_syms();
		pthread_mutex_unlock(&lock);
		v->region = v->pending;
		v->total = 0;
		v->dirty = 0;
		memset(v->where, 0, sizeof(v->where));
		if (v->syms)
			memset(v->syms, 0, (nsyms + 1) * sizeof(uint64_t));
		v->counting = true;
		/* The marker itself is not counted. */
		break;
	case CMD_STOP:
		if (!v->counting)
			break;
		v->counting = false;
		batch_end(v);
		break;
	case CMD_DUMP:
		pthread_mutex_lock(&lock);
		dump();
		if (profile_path) {
			char p[4096];

			snprintf(p, sizeof(p), "%s.%d", profile_path, profile_dumps++);
			dump_profile(p);
		}
		pthread_mutex_unlock(&lock);
		break;
	}
}

/* The marker command of an instruction, or 0. */
static unsigned int marker_of(struct qemu_plugin_insn *insn)
{
	const uint8_t *b = qemu_plugin_insn_data(insn);

	if (qemu_plugin_insn_size(insn) != MARK_LEN || b[0] != 0x0f ||
	    b[1] != 0x1f || b[2] != 0x80 || b[5] != 0x54 || b[6] != 0x52)
		return 0;
	return b[4] << 8 | b[3];
}

static void insn_user(unsigned int vcpu_index, void *ud)
{
	struct vcpu *v = &vcpus[vcpu_index];

	if (v->counting)
		count_user(v, 1);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb), i;
	uint64_t va = qemu_plugin_tb_vaddr(tb);
	bool marked = false;
	struct ktb *t;

	if (!n)
		return;
	if (va < KERNEL_HALF) {
		if (profile_path)
			qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
								 &profile_user, n);
		for (i = 0; i < n; i++)
			if (marker_of(qemu_plugin_tb_get_insn(tb, i)))
				marked = true;
		if (!marked) {
			if (kallsyms_path)
				qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec,
								     QEMU_PLUGIN_CB_NO_REGS,
								     user_ud(n));
			return;
		}
		/*
		 * A block with a marker: one callback per instruction, so
		 * that counting starts and stops at the marker exactly.
		 */
		for (i = 0; i < n; i++) {
			struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
			unsigned int m = marker_of(insn);

			if (m)
				qemu_plugin_register_vcpu_insn_exec_cb(insn, marker_exec,
								       QEMU_PLUGIN_CB_NO_REGS,
								       (void *)(uintptr_t)m);
			else
				qemu_plugin_register_vcpu_insn_exec_cb(insn, insn_user,
								       QEMU_PLUGIN_CB_NO_REGS,
								       NULL);
		}
		return;
	}
	t = xcalloc(1, sizeof(*t) + n * sizeof(uint64_t));
	t->n = n;
	for (i = 0; i < n; i++)
		t->va[i] = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i));
	if (profile_path) {
		pthread_mutex_lock(&lock);
		if (profile_n == profile_cap) {
			profile_cap = profile_cap ? 2 * profile_cap : 65536;
			profile_tbs = realloc(profile_tbs, profile_cap * sizeof(*profile_tbs));
			if (!profile_tbs)
				fail("out of memory");
		}
		profile_tbs[profile_n++] = t;
		pthread_mutex_unlock(&lock);
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							 &t->all, n);
	}
	if (kallsyms_path)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, t);
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
	pthread_mutex_lock(&lock);
	dump();
	if (profile_path)
		dump_profile(profile_path);
	pthread_mutex_unlock(&lock);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	int i;

	if (!info->system_emulation) {
		fprintf(stderr, "icount plugin: system emulation only\n");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "kallsyms=", 9)) {
			kallsyms_path = argv[i] + 9;
		} else if (!strncmp(argv[i], "out=", 4)) {
			out_path = argv[i] + 4;
		} else if (!strncmp(argv[i], "profile=", 8)) {
			profile_path = argv[i] + 8;
		} else {
			fprintf(stderr, "icount plugin: unknown argument '%s' (kallsyms=FILE, out=FILE, profile=FILE)\n",
				argv[i]);
			return -1;
		}
	}
	if (!profile_path && (!kallsyms_path || !out_path)) {
		fprintf(stderr, "icount plugin: needs kallsyms=FILE and out=FILE, or profile=FILE\n");
		return -1;
	}
	if (!kallsyms_path != !out_path) {
		fprintf(stderr, "icount plugin: kallsyms=FILE and out=FILE go together\n");
		return -1;
	}
	nvcpus = info->system.max_vcpus;
	vcpus = xcalloc(nvcpus, sizeof(*vcpus));
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
