//! The procedural half of gort's `select!` macro. Not for direct use: `gort::select!`
//! forwards here with gort's own path (`$crate`) as the first token group, so the
//! expansion names gort's hidden entry points however the user's crate calls gort.
//!
//! Why a procedural macro: a `macro_rules!` muncher recurses once per arm, so a
//! select with more than about 60 arms needs `#![recursion_limit]`, and it cannot
//! number the arms without more recursion. This one reads every arm in a loop and
//! emits a flat block, so a select may have as many arms as Go allows (65,536).
//!
//! Grammar (Go's select statement, with crossbeam's arm syntax):
//!
//! ```text
//! select! { ARM* }
//! ARM  = recv(CHAN) [-> PAT] => BODY
//!      | send(CHAN, VALUE) => BODY
//!      | default => BODY
//! BODY = { ... } [,]  |  EXPR (,|end)
//! ```
//!
//! CHAN and VALUE are evaluated once each, in source order. A CHAN with a top-level
//! comma (a turbofish) must be parenthesised: the first top-level comma of `send(..)`
//! separates the channel from the value. An expression BODY ends at its first
//! top-level comma (wrap one containing a closure with several parameters in braces).
//!
//! The expansion (for two arms):
//!
//! ```text
//! {
//!     let c0 = &(CHAN0); let mut a0 = GORT::__private::RecvArm::new(c0);
//!     let c1 = &(CHAN1); let mut a1 = GORT::__private::SendArm::new(c1, (VALUE1));
//!     match GORT::__private::selectgo(&mut [a0.case(), a1.case()], BLOCK) {
//!         0 => { let PAT0 = a0.take(); BODY0 }
//!         1 => { BODY1 }
//!         _ => DEFAULT_BODY, or unreachable
//!     }
//! }
//! ```
//!
//! Errors are `compile_error!`s at the offending token.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// `select_impl!(GORT_PATH; ARMS...)`: see the crate documentation.
#[proc_macro]
pub fn select_impl(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(ts) => ts,
        Err((span, msg)) => compile_error(span, &msg),
    }
}

type Error = (Span, String);

enum Kind {
    Recv {
        chan: TokenStream,
        pat: TokenStream,
    },
    Send {
        chan: TokenStream,
        value: TokenStream,
    },
    Default,
}

struct Arm {
    kind: Kind,
    body: TokenStream,
}

fn expand(input: TokenStream) -> Result<TokenStream, Error> {
    let mut toks: Vec<TokenTree> = input.into_iter().collect();
    // The crate path, up to the first `;`.
    let semi = toks.iter().position(|t| is_punct(t, ';')).ok_or_else(|| {
        (
            Span::call_site(),
            "gort::select!: internal: no crate path".into(),
        )
    })?;
    let krate: TokenStream = toks.drain(..=semi).take(semi).collect();
    let arms = parse_arms(toks)?;
    Ok(generate(&krate, &arms))
}

fn parse_arms(toks: Vec<TokenTree>) -> Result<Vec<Arm>, Error> {
    let mut it = toks.into_iter().peekable();
    let mut arms = Vec::new();
    let mut default_seen = false;
    while let Some(tok) = it.next() {
        let TokenTree::Ident(kw) = &tok else {
            return Err((
                tok.span(),
                "expected `recv(..)`, `send(..)` or `default`".into(),
            ));
        };
        let kind = match kw.to_string().as_str() {
            "recv" => {
                let chan = paren_group(&mut it, kw.span(), "recv")?;
                let pat = if next_is_arrow(&mut it, '-') {
                    it.next();
                    it.next();
                    let mut pat = Vec::new();
                    loop {
                        match it.peek() {
                            None => {
                                return Err((kw.span(), "expected `=>` after the pattern".into()))
                            }
                            Some(t) if is_fat_arrow_start(t) => break,
                            Some(_) => pat.push(it.next().unwrap()),
                        }
                    }
                    if pat.is_empty() {
                        return Err((kw.span(), "expected a pattern after `->`".into()));
                    }
                    pat.into_iter().collect()
                } else {
                    ident_ts("_")
                };
                Kind::Recv { chan, pat }
            }
            "send" => {
                let args = paren_group(&mut it, kw.span(), "send")?;
                let (chan, value) = split_first_comma(args)
                    .ok_or_else(|| (kw.span(), "expected `send(CHANNEL, VALUE)`".to_string()))?;
                Kind::Send { chan, value }
            }
            "default" => {
                if default_seen {
                    return Err((kw.span(), "select has more than one `default` arm".into()));
                }
                default_seen = true;
                Kind::Default
            }
            other => {
                return Err((
                    kw.span(),
                    format!("expected `recv(..)`, `send(..)` or `default`, found `{other}`"),
                ))
            }
        };
        expect_fat_arrow(&mut it, kw.span())?;
        let body = parse_body(&mut it, kw.span())?;
        arms.push(Arm { kind, body });
    }
    let ncases = arms
        .iter()
        .filter(|a| !matches!(a.kind, Kind::Default))
        .count();
    if ncases > 65536 {
        return Err((Span::call_site(), "select has more than 65536 cases".into()));
    }
    Ok(arms)
}

/// The body of an arm: a block (and an optional comma), or the tokens up to the next
/// top-level comma (consumed) or the end.
fn parse_body(
    it: &mut std::iter::Peekable<std::vec::IntoIter<TokenTree>>,
    at: Span,
) -> Result<TokenStream, Error> {
    if let Some(TokenTree::Group(g)) = it.peek() {
        if g.delimiter() == Delimiter::Brace {
            let g = it.next().unwrap();
            if it.peek().is_some_and(|t| is_punct(t, ',')) {
                it.next();
            }
            return Ok(TokenStream::from(g));
        }
    }
    let mut body = Vec::new();
    for t in it.by_ref() {
        if is_punct(&t, ',') {
            break;
        }
        body.push(t);
    }
    if body.is_empty() {
        return Err((at, "expected an expression or a block after `=>`".into()));
    }
    Ok(body.into_iter().collect())
}

fn paren_group(
    it: &mut std::iter::Peekable<std::vec::IntoIter<TokenTree>>,
    at: Span,
    what: &str,
) -> Result<TokenStream, Error> {
    match it.next() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
            if g.stream().is_empty() {
                Err((g.span(), format!("`{what}()` needs a channel")))
            } else {
                Ok(g.stream())
            }
        }
        Some(t) => Err((t.span(), format!("expected `(` after `{what}`"))),
        None => Err((at, format!("expected `(` after `{what}`"))),
    }
}

/// Split at the first top-level comma: (before, after), both non-empty.
fn split_first_comma(ts: TokenStream) -> Option<(TokenStream, TokenStream)> {
    let toks: Vec<TokenTree> = ts.into_iter().collect();
    let i = toks.iter().position(|t| is_punct(t, ','))?;
    let (a, b) = toks.split_at(i);
    let b = &b[1..];
    // A trailing comma after the value is allowed: `send(c, v,)`.
    let b: Vec<TokenTree> = match b.last() {
        Some(t) if is_punct(t, ',') => b[..b.len() - 1].to_vec(),
        _ => b.to_vec(),
    };
    if a.is_empty() || b.is_empty() {
        return None;
    }
    Some((a.iter().cloned().collect(), b.into_iter().collect()))
}

fn is_punct(t: &TokenTree, c: char) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == c)
}

/// Whether the next two tokens are `c>` with c joint (`->` or `=>`).
fn next_is_arrow(it: &mut std::iter::Peekable<std::vec::IntoIter<TokenTree>>, c: char) -> bool {
    let mut look = it.clone();
    matches!(
        (look.next(), look.next()),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == c && a.spacing() == Spacing::Joint && b.as_char() == '>'
    )
}

fn is_fat_arrow_start(t: &TokenTree) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == Spacing::Joint)
}

fn expect_fat_arrow(
    it: &mut std::iter::Peekable<std::vec::IntoIter<TokenTree>>,
    at: Span,
) -> Result<(), Error> {
    if next_is_arrow(it, '=') {
        it.next();
        it.next();
        Ok(())
    } else {
        let span = it.peek().map_or(at, |t| t.span());
        Err((span, "expected `=>`".into()))
    }
}

fn generate(krate: &TokenStream, arms: &[Arm]) -> TokenStream {
    let private = |name: &str| -> TokenStream {
        let mut ts = krate.clone();
        ts.extend(path(&["__private", name]));
        ts
    };
    let mut lets = TokenStream::new();
    let mut cases = TokenStream::new();
    let mut match_arms = TokenStream::new();
    let mut default_body: Option<&TokenStream> = None;
    let mut n = 0usize;
    for arm in arms {
        let a = hyg(&format!("__gort_a{n}"));
        let c = hyg(&format!("__gort_c{n}"));
        match &arm.kind {
            Kind::Default => {
                default_body = Some(&arm.body);
                continue;
            }
            Kind::Recv { chan, pat } => {
                // let c = &(CHAN); let mut a = RecvArm::new(c);
                lets.extend(let_stmt(c.clone(), false, amp(paren(chan.clone()))));
                let mut init = private("RecvArm");
                init.extend(path(&["new"]));
                init.extend([group(
                    Delimiter::Parenthesis,
                    TokenStream::from(TokenTree::Ident(c)),
                )]);
                lets.extend(let_stmt(a.clone(), true, init));
                // n => { let PAT = a.take(); BODY }
                let mut inner = TokenStream::new();
                inner.extend(ident_ts("let"));
                inner.extend(pat.clone());
                inner.extend(punct_ts("="));
                inner.extend(method_call(&a, "take"));
                inner.extend(punct_ts(";"));
                inner.extend(arm.body.clone());
                match_arms.extend(match_arm(n, inner));
            }
            Kind::Send { chan, value } => {
                lets.extend(let_stmt(c.clone(), false, amp(paren(chan.clone()))));
                let mut init = private("SendArm");
                init.extend(path(&["new"]));
                let mut args = TokenStream::from(TokenTree::Ident(c));
                args.extend(punct_ts(","));
                args.extend(paren(value.clone()));
                init.extend([group(Delimiter::Parenthesis, args)]);
                lets.extend(let_stmt(a.clone(), true, init));
                match_arms.extend(match_arm(n, arm.body.clone()));
            }
        }
        cases.extend(method_call(&a, "case"));
        cases.extend(punct_ts(","));
        n += 1;
    }
    // selectgo(&mut [cases], block)
    let mut call = private("selectgo");
    let mut args = TokenStream::new();
    args.extend(punct_ts("&"));
    args.extend(ident_ts("mut"));
    args.extend([group(Delimiter::Bracket, cases)]);
    args.extend(punct_ts(","));
    args.extend(ident_ts(if default_body.is_some() {
        "false"
    } else {
        "true"
    }));
    call.extend([group(Delimiter::Parenthesis, args)]);
    // _ => default or unreachable
    let mut fallback = TokenStream::new();
    fallback.extend(ident_ts("_"));
    fallback.extend(punct_ts("=>"));
    match default_body {
        Some(b) => fallback.extend([group(Delimiter::Brace, b.clone())]),
        None => {
            let mut u = private("unreachable_select");
            u.extend([group(Delimiter::Parenthesis, TokenStream::new())]);
            fallback.extend([group(Delimiter::Brace, u)]);
        }
    }
    match_arms.extend(fallback);
    let mut body = lets;
    body.extend(ident_ts("match"));
    body.extend(call);
    body.extend([group(Delimiter::Brace, match_arms)]);
    TokenStream::from(group(Delimiter::Brace, body))
}

/// An identifier the user's code cannot name (mixed-site hygiene).
fn hyg(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

fn ident_ts(name: &str) -> TokenStream {
    TokenStream::from(TokenTree::Ident(Ident::new(name, Span::call_site())))
}

/// A punctuation sequence such as `=>`, `::`, `&`.
fn punct_ts(s: &str) -> TokenStream {
    let chars: Vec<char> = s.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let spacing = if i + 1 < chars.len() {
                Spacing::Joint
            } else {
                Spacing::Alone
            };
            TokenTree::Punct(Punct::new(c, spacing))
        })
        .collect()
}

/// `::a::b` continuing a path.
fn path(parts: &[&str]) -> TokenStream {
    let mut ts = TokenStream::new();
    for p in parts {
        ts.extend(punct_ts("::"));
        ts.extend(ident_ts(p));
    }
    ts
}

fn group(d: Delimiter, ts: TokenStream) -> TokenTree {
    TokenTree::Group(Group::new(d, ts))
}

fn paren(ts: TokenStream) -> TokenStream {
    TokenStream::from(group(Delimiter::Parenthesis, ts))
}

fn amp(ts: TokenStream) -> TokenStream {
    let mut out = punct_ts("&");
    out.extend(ts);
    out
}

/// `let [mut] name = init;`
fn let_stmt(name: Ident, mutable: bool, init: TokenStream) -> TokenStream {
    let mut ts = ident_ts("let");
    if mutable {
        ts.extend(ident_ts("mut"));
    }
    ts.extend([TokenTree::Ident(name)]);
    ts.extend(punct_ts("="));
    ts.extend(init);
    ts.extend(punct_ts(";"));
    ts
}

/// `recv.method()`
fn method_call(recv: &Ident, method: &str) -> TokenStream {
    let mut ts = TokenStream::from(TokenTree::Ident(recv.clone()));
    ts.extend(punct_ts("."));
    ts.extend(ident_ts(method));
    ts.extend([group(Delimiter::Parenthesis, TokenStream::new())]);
    ts
}

/// `N => { body }`
fn match_arm(n: usize, body: TokenStream) -> TokenStream {
    let mut ts = TokenStream::from(TokenTree::Literal(Literal::usize_suffixed(n)));
    ts.extend(punct_ts("=>"));
    ts.extend([group(Delimiter::Brace, body)]);
    ts
}

fn compile_error(span: Span, msg: &str) -> TokenStream {
    // compile_error!("gort::select!: MSG"); with every token at span.
    let mut lit = Literal::string(&format!("gort::select!: {msg}"));
    lit.set_span(span);
    let mut args = Group::new(
        Delimiter::Parenthesis,
        TokenStream::from(TokenTree::Literal(lit)),
    );
    args.set_span(span);
    let mut bang = Punct::new('!', Spacing::Alone);
    bang.set_span(span);
    let mut semi = Punct::new(';', Spacing::Alone);
    semi.set_span(span);
    [
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(bang),
        TokenTree::Group(args),
        TokenTree::Punct(semi),
    ]
    .into_iter()
    .collect()
}
