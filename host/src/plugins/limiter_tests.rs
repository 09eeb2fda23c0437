//! One memory budget per component instance: hand-assembled core modules
//! with several memories and tables, instantiated into one store the way a
//! component's core instances are.

use wasmtime::{Engine, Instance, Module, Store};

use super::{Limiter, MAX_MEMORIES};

const PAGE: usize = 64 << 10;
/// 64 pages.
const BUDGET: usize = 4 << 20;

fn leb(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn section(id: u8, body: Vec<u8>, out: &mut Vec<u8>) {
    out.push(id);
    leb(body.len(), out);
    out.extend(body);
}

/// A module declaring funcref tables and linear memories of these minimum
/// sizes (elements, pages), no maximum.
fn module(tables: &[usize], memories: &[usize]) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    if !tables.is_empty() {
        let mut body = Vec::new();
        leb(tables.len(), &mut body);
        for &t in tables {
            body.extend([0x70, 0x00]);
            leb(t, &mut body);
        }
        section(4, body, &mut m);
    }
    if !memories.is_empty() {
        let mut body = Vec::new();
        leb(memories.len(), &mut body);
        for &pages in memories {
            body.push(0x00);
            leb(pages, &mut body);
        }
        section(5, body, &mut m);
    }
    m
}

fn store(engine: &Engine) -> Store<Limiter> {
    let mut store = Store::new(engine, Limiter::new(BUDGET));
    store.limiter(|l| l);
    store
}

fn instantiate(engine: &Engine, store: &mut Store<Limiter>, tables: &[usize], memories: &[usize]) -> bool {
    let m = Module::new(engine, module(tables, memories)).expect("a valid module");
    Instance::new(store, &m, &[]).is_ok()
}

#[test]
fn many_memories_share_one_budget() {
    let engine = Engine::default();
    // Each memory alone is under the budget; together they are not.
    let mut s = store(&engine);
    assert!(!instantiate(&engine, &mut s, &[], &[48, 48]), "2 x 3 MiB passed a 4 MiB budget");
    assert!(s.data().memory_denied);
    // The most memories allowed, each a slice of the budget: exactly fits.
    let mut s = store(&engine);
    let slice = BUDGET / PAGE / MAX_MEMORIES;
    assert!(instantiate(&engine, &mut s, &[], &[slice; MAX_MEMORIES]));
    assert_eq!(s.data().used, BUDGET);
    assert!(!s.data().memory_denied);
    // 16 memories of twice that: the old per-memory limit let this take 8 MiB.
    let mut s = store(&engine);
    assert!(!instantiate(&engine, &mut s, &[], &[slice * 2; MAX_MEMORIES]));
}

#[test]
fn the_budget_spans_every_core_instance_of_the_component() {
    let engine = Engine::default();
    let mut s = store(&engine);
    assert!(instantiate(&engine, &mut s, &[], &[30]));
    assert!(instantiate(&engine, &mut s, &[], &[30]));
    assert!(!instantiate(&engine, &mut s, &[], &[10]), "60 + 10 pages passed a 64-page budget");
    assert!(instantiate(&engine, &mut s, &[], &[4]));
    assert_eq!(s.data().used, 64 * PAGE);
}

#[test]
fn tables_count_against_the_same_budget() {
    let engine = Engine::default();
    let mut s = store(&engine);
    // A million funcref slots is 8 MB of host memory.
    assert!(!instantiate(&engine, &mut s, &[1_000_000], &[]));
    assert!(s.data().memory_denied);
    let mut s = store(&engine);
    assert!(instantiate(&engine, &mut s, &[1000, 1000], &[60]));
    assert!(!instantiate(&engine, &mut s, &[], &[4]), "tables and memories are summed");
}
