use super::*;

fn rules(text: &str) -> Vec<(usize, &'static str)> {
    scan(text).into_iter().map(|h| (h.line, h.rule)).collect()
}

#[test]
fn github_checksum_is_crc32_in_base62() {
    let random = "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1";
    let token = format!("ghp_{random}{}", github_checksum(random));
    assert!(github_checksum_ok(&token), "{token}");
    let hit = &scan(&format!("x {token}"))[0];
    assert_eq!(hit.level, Level::Critical);
    let bad = format!("ghp_{random}Zz9Yy8");
    assert!(!github_checksum_ok(&bad));
    assert_eq!(scan(&bad)[0].level, Level::Medium, "a token with a wrong checksum is still reported, lower");
}

#[test]
fn standalone_tokens_and_assignments_in_many_syntaxes() {
    let text = [
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "export HEROKU_KEY=8b1c2e9a-4d7f-4c3e-9a6b-2f5d8e1c7a90",
        "var apiToken string = \"q8Lr0Xf3Tn2Mx7Kp4Wz9\"",
        "$password .= 'Zk3m9Qp2Lx7Vb4Nw';",
        "System.setProperty(\"db.password\", \"Tr0ub4dor&3x\");",
        "curl -u admin:Wq7vN2!kd9 https://api.internal/x",
        "curl -H \"Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0\" https://api",
        "DB_PASSWORD ?= pR9x!m2Kq",
    ]
    .join("\n");
    let got = rules(&text);
    assert_eq!(got.len(), 8, "{got:?}");
    assert_eq!(got[0], (0, "stripe-secret"));
    assert_eq!(got[1].1, "heroku-key");
    assert_eq!(got[5].1, "curl-user");
    assert_eq!(got[6].1, "authorization-header");
}

#[test]
fn key_blocks_need_a_body_and_k8s_data_is_found() {
    assert!(scan("-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n").is_empty());
    let key = "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4Jk9qPz2Lm8Vn3Rt6Yw1Hb5Cd7Ef0Gh\nQk2Lm=\n-----END RSA PRIVATE KEY-----\ny = 1\n";
    let h = scan(key);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].block, Some((1, 4)));
    let clean = redact(key, "[gone]");
    assert_eq!(clean, "x\n[gone]\ny = 1\n");
    let k8s = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: cDRzc3cwcmQtWms5cQ==\n  username: YWRtaW4=\n";
    assert_eq!(rules(k8s), vec![(5, "kubernetes-secret-data")]);
}

#[test]
fn placeholders_ids_and_urls_stay_quiet() {
    let text = [
        "token = ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "SLACK_TOKEN=xoxb-xxx",
        "password = \"11111111\"",
        "api_key = \"<your-key>\"",
        "secret: ${VAR}",
        "credentialsId: '8b1c2e9a-4d7f-4c3e-9a6b-2f5d8e1c7a90'",
        "access_token_url='https://github.com/login/oauth/access_token'",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "password_min_length: 12",
        "api_key = os.environ[\"API_KEY\"]",
        "const token = getToken();",
        "primary_key: user_id",
        "stripe.api_key = settings.STRIPE_KEY",
        "pk_live_51H8x2LKq9Rz3Tm4Vb7Nw0Yc",
    ]
    .join("\n");
    assert_eq!(rules(&text), vec![], "{text}");
}

#[test]
fn xml_values_split_over_lines_are_found() {
    let text = "<config>\n  <password>\n    Zq8!mK2pLx9w\n  </password>\n</config>\n";
    assert_eq!(rules(text), vec![(2, "xml-element")]);
}

#[test]
#[ignore]
fn compile_costs() {
    let mut v = Vec::new();
    for (i, p) in PREFIXED.iter().enumerate() {
        let t = std::time::Instant::now();
        let ok = prefixed_re(i).is_some();
        v.push((t.elapsed().as_micros(), p.id, ok));
    }
    for (i, c) in CONTEXTUAL.iter().enumerate() {
        let t = std::time::Instant::now();
        let ok = contextual_re(i).is_some();
        v.push((t.elapsed().as_micros(), c.id, ok));
    }
    let t = std::time::Instant::now();
    let _ = assignment_re();
    v.push((t.elapsed().as_micros(), "assignment", true));
    let t = std::time::Instant::now();
    let _ = (auth_header_re(), url_re(), jwt_re(), xml_attr_re(), call_pair_re(), spaced_re(), header_re());
    v.push((t.elapsed().as_micros(), "others", true));
    let total: u128 = v.iter().map(|x| x.0).sum();
    v.sort();
    v.reverse();
    println!("total {total} us; failed ascii: {:?}", v.iter().filter(|x| !x.2).map(|x| x.1).collect::<Vec<_>>());
    for x in v.iter().take(12) {
        println!("{x:?}");
    }
}

#[test]
fn xml_forms() {
    let text = "<resources>\n  <string name=\"google_maps_key\">Qm8vT2kLp9Zx4Rw7Yb3Nc6</string>\n</resources>\n<dict>\n  <key>apiToken</key>\n  <string>Hq7Zp2Lm9Vx4Tb8Nw3Rk6</string>\n</dict>\n<password>\n  Zq8!mK2p\n  Lx9wT4\n</password>\n<name>\n  Alice Example\n</name>\n";
    assert_eq!(rules(text), vec![(1, "xml-element"), (5, "xml-element"), (8, "xml-element")]);
}

#[test]
fn names_and_values_on_separate_lines() {
    let text = "env:\n  - name: DB_PASSWORD\n    value: Zq8mK2pLx9wT4\n  - name: LOG_LEVEL\n    value: debug\nvariable \"api_token\" {\n  type    = string\n  default = \"Qm8vT2kLp9Zx4Rw7Yb3Nc6\"\n}\n  - name: API_KEY\n    valueFrom:\n      secretKeyRef: {name: s, key: k}\n";
    assert_eq!(rules(text), vec![(2, "generic-assignment"), (7, "generic-assignment")]);
}

#[test]
fn every_pattern_builds() {
    for (i, p) in PREFIXED.iter().enumerate() {
        assert!(prefixed_re(i).is_some(), "{}: {}", p.id, p.pattern);
    }
    for (i, c) in CONTEXTUAL.iter().enumerate() {
        assert!(contextual_re(i).is_some(), "{}: {}", c.id, c.value);
    }
}

/// Every sample of the public benchmark (bench/analyses/secrets), as scanned.
fn bench_samples() -> Vec<String> {
    // Where the test runs, not where it was compiled (a target folder
    // shared by two checkouts reuses the binary).
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    let dir = std::path::Path::new(&crate_dir).join("../bench/analyses/secrets");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("the secrets benchmark")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("a sample file");
        for line in text.lines() {
            let Some((label, rest)) = line.split_once(' ') else { continue };
            if (label == "+" || label == "-")
                && let Some((_, sample)) = rest.split_once(' ')
            {
                out.push(sample.replace('⏎', "\n"));
            }
        }
    }
    assert!(out.len() > 800, "{} samples", out.len());
    out
}

#[test]
fn the_keyword_index_finds_what_a_search_per_keyword_finds() {
    let index = keyword_index();
    let mut lines: Vec<String> = bench_samples().iter().flat_map(|s| s.lines().map(str::to_string)).collect();
    lines.extend(include_str!("lib.rs").lines().map(str::to_string));
    // Every keyword alone, and glued to its neighbours.
    let all: Vec<&str> =
        PREFIXED.iter().flat_map(|p| p.keywords).chain(CONTEXTUAL.iter().flat_map(|c| c.keywords)).copied().collect();
    lines.extend(all.iter().map(|k| k.to_string()));
    lines.push(all.concat());
    for line in &lines {
        let lower = line.to_ascii_lowercase();
        let found = index.rules_in(&lower);
        for (k, p) in PREFIXED.iter().enumerate() {
            assert_eq!(found.has(k), p.keywords.iter().any(|kw| lower.contains(kw)), "{} on {line}", p.id);
        }
        for (k, c) in CONTEXTUAL.iter().enumerate() {
            let at = PREFIXED.len() + k;
            assert_eq!(found.has(at), c.keywords.iter().any(|kw| lower.contains(kw)), "{} on {line}", c.id);
        }
    }
}

/// The prefilters (keywords, literal checks before a pattern is built or
/// tried) only skip work: a scan that builds and tries every pattern on every
/// line reports exactly the same hits, on every benchmark sample.
#[test]
fn prefilters_change_no_finding() {
    let mut samples = bench_samples();
    // Real code too: every line of this file (a pattern tried on every line is slow, so one file).
    samples.push(include_str!("tests.rs").to_string());
    let mut with_hits = 0;
    for s in &samples {
        let filtered = scan(s);
        let every = scan_ungated(s);
        assert_eq!(filtered, every, "{s}");
        with_hits += usize::from(!filtered.is_empty());
    }
    assert!(with_hits > 600, "the comparison covers real hits: {with_hits}");
}
