//! Panics in the way named by its argument, for the panic tests:
//! `message` (an explicit panic!), `index` (a bounds check), `unwrap` (None.unwrap()).
#![no_std]
#![no_main]

gort::main!(main);

fn main() {
    let how = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str())
        .unwrap_or("message");
    gort::println!("about to panic");
    match how {
        "message" => panic!("something went wrong: {}", 42),
        "index" => {
            let v = [1, 2, 3];
            let i = gort::env::args().len() + 3; // 5, not known at compile time
            gort::println!("{}", v[i]);
        }
        "unwrap" => {
            let none: Option<u8> = gort::env::var("GORT_NO_SUCH_VARIABLE").map(|_| 1);
            gort::println!("{}", none.unwrap());
        }
        other => gort::eprintln!("unknown mode {other}"),
    }
}
