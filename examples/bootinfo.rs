//! Prints the state the boot path (rt0_go, args, osinit, schedinit, newproc, mstart)
//! left behind, one `key=value` a line: addresses in 0x hex, numbers in decimal.
#![no_std]
#![no_main]

use gort::println;

gort::main!(main);

fn main() {
    // Boot introspection is an unstable, hidden entry point kept for this test program.
    let b = gort::debug::unstable::boot_info();
    println!("argc={}", b.argc);
    println!("entry.sp={:#x}", b.entry_sp);
    println!("g0.stack.hi={:#x}", b.g0_stack_hi);
    println!("g0.stack.lo={:#x}", b.g0_stack_lo);
    println!("g0.stack.size={}", b.g0_stack_hi - b.g0_stack_lo);
    println!("g0.stackguard0={:#x}", b.g0_stackguard0);
    println!("tls.fsbase={:#x}", b.fsbase);
    println!("tls.m0_tls1={:#x}", b.m0_tls1);
    println!("tls.check={:#x}", b.tls_check);
    println!("m0.id={}", b.m0_id);
    println!("ncpu={}", b.ncpu);
    println!("ncpu.affinity={}", b.ncpu_affinity);
    println!("physpagesize={}", b.physpagesize);
    println!("maxmcount={}", b.maxmcount);
    println!("gomaxprocs={}", b.gomaxprocs);
    println!("allp.len={}", b.allp_len);
    println!("idleprocs={}", b.idleprocs);
    println!("p0.status={}", b.p0_status);
    println!("p0.m={}", b.p0_m);
    print_allm(&b.allm[..b.allm_len]);
    println!("stealorder.count={}", b.steal_order_count);
    println!("main.goid={}", b.cur_goid);
    println!("main.m={}", b.cur_m);
}

fn print_allm(ids: &[i64]) {
    gort::print!("allm=");
    for (i, id) in ids.iter().enumerate() {
        gort::print!("{}{}", if i > 0 { "," } else { "" }, id);
    }
    println!();
}
