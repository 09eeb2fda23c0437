//! Provider token formats. Each rule names the service, the literal
//! keywords one of which must be on the line before its pattern is tried
//! (lower case), and the pattern, whose group 1 is the secret.
//!
//! Two kinds: a *prefixed* format is recognisable on its own (`ghp_…`,
//! `glpat-…`, `sk-ant-…`) and is found anywhere, with or without an
//! assignment; a *contextual* format is a bare hex string, UUID or similar
//! that only means something next to the service's name, so its rule needs
//! that name on the line (`heroku_api_key = <uuid>`).

use crate::{Check, Level};

/// A provider format recognisable by its prefix and shape.
pub struct Prefixed {
    pub id: &'static str,
    pub service: &'static str,
    pub what: &'static str,
    pub level: Level,
    pub keywords: &'static [&'static str],
    pub pattern: &'static str,
    /// Minimum Shannon entropy (bits per character) of the secret.
    pub entropy: f32,
    pub check: Check,
}

/// A provider whose secret has no prefix: found only near the service's name.
pub struct Contextual {
    pub id: &'static str,
    pub service: &'static str,
    /// Lower-case names of the service, as they appear in variable names.
    pub keywords: &'static [&'static str],
    /// The secret's shape (no capture groups).
    pub value: &'static str,
}

macro_rules! p {
    ($id:literal, $svc:literal, $what:literal, $lvl:ident, [$($kw:literal),*], $pat:literal) => {
        p!($id, $svc, $what, $lvl, [$($kw),*], $pat, 3.0, None)
    };
    ($id:literal, $svc:literal, $what:literal, $lvl:ident, [$($kw:literal),*], $pat:literal, $ent:literal) => {
        p!($id, $svc, $what, $lvl, [$($kw),*], $pat, $ent, None)
    };
    ($id:literal, $svc:literal, $what:literal, $lvl:ident, [$($kw:literal),*], $pat:literal, $ent:literal, $check:ident) => {
        Prefixed {
            id: $id,
            service: $svc,
            what: $what,
            level: Level::$lvl,
            keywords: &[$($kw),*],
            pattern: $pat,
            entropy: $ent,
            check: Check::$check,
        }
    };
}

// The end of a token: not followed by more token characters.
// (The regex crate has no look-ahead; the patterns consume one character or the end.)
pub const PREFIXED: &[Prefixed] = &[
    // --- Source hosting and package registries
    p!(
        "github-pat",
        "GitHub",
        "personal access token",
        Critical,
        ["ghp_"],
        r"\b(ghp_[A-Za-z0-9]{36})(?:[^A-Za-z0-9_]|$)",
        3.0,
        GithubCrc
    ),
    p!(
        "github-oauth",
        "GitHub",
        "OAuth access token",
        Critical,
        ["gho_"],
        r"\b(gho_[A-Za-z0-9]{36})(?:[^A-Za-z0-9_]|$)",
        3.0,
        GithubCrc
    ),
    p!(
        "github-user-to-server",
        "GitHub",
        "app user-to-server token",
        Critical,
        ["ghu_"],
        r"\b(ghu_[A-Za-z0-9]{36})(?:[^A-Za-z0-9_]|$)",
        3.0,
        GithubCrc
    ),
    p!(
        "github-server-to-server",
        "GitHub",
        "app installation token",
        Critical,
        ["ghs_"],
        r"\b(ghs_[A-Za-z0-9]{36})(?:[^A-Za-z0-9_]|$)",
        3.0,
        GithubCrc
    ),
    p!(
        "github-refresh",
        "GitHub",
        "refresh token",
        Critical,
        ["ghr_"],
        r"\b(ghr_[A-Za-z0-9]{36,76})(?:[^A-Za-z0-9_]|$)",
        3.0,
        GithubCrc
    ),
    p!(
        "github-fine-grained-pat",
        "GitHub",
        "fine-grained personal access token",
        Critical,
        ["github_pat_"],
        r"\b(github_pat_[A-Za-z0-9_]{36,255})(?:[^A-Za-z0-9_]|$)"
    ),
    p!(
        "gitlab-pat",
        "GitLab",
        "personal access token",
        Critical,
        ["glpat-"],
        r"\b(glpat-[A-Za-z0-9_\-]{20,300}(?:\.[0-9a-z]{2}\.?[0-9a-z]{7,9})?)(?:[^A-Za-z0-9_\-.]|$)"
    ),
    p!(
        "gitlab-pipeline-trigger",
        "GitLab",
        "pipeline trigger token",
        High,
        ["glptt-"],
        r"\b(glptt-[0-9a-f]{40})(?:[^0-9a-f]|$)"
    ),
    p!(
        "gitlab-runner-registration",
        "GitLab",
        "runner registration token",
        High,
        ["gr1348941"],
        r"\b(GR1348941[A-Za-z0-9_\-]{20})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "gitlab-runner-auth",
        "GitLab",
        "runner authentication token",
        High,
        ["glrt-"],
        r"\b(glrt-[A-Za-z0-9_\-]{20,})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!("gitlab-deploy", "GitLab", "deploy token", High, ["gldt-"], r"\b(gldt-[A-Za-z0-9_\-]{20})(?:[^A-Za-z0-9_\-]|$)"),
    p!("gitlab-feed", "GitLab", "feed token", Medium, ["glft-"], r"\b(glft-[A-Za-z0-9_\-]{20})(?:[^A-Za-z0-9_\-]|$)"),
    p!(
        "gitlab-incoming-mail",
        "GitLab",
        "incoming mail token",
        Medium,
        ["glimt-"],
        r"\b(glimt-[A-Za-z0-9_\-]{25})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "gitlab-ci-job",
        "GitLab",
        "CI/CD job token",
        High,
        ["glcbt-"],
        r"\b(glcbt-[0-9a-fA-F]{1,5}_[A-Za-z0-9_\-]{20})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!("gitlab-scim", "GitLab", "SCIM token", High, ["glsoat-"], r"\b(glsoat-[A-Za-z0-9_\-]{20})(?:[^A-Za-z0-9_\-]|$)"),
    p!(
        "gitlab-feature-flag",
        "GitLab",
        "feature flag client token",
        Medium,
        ["glffct-"],
        r"\b(glffct-[A-Za-z0-9_\-]{20})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "gitlab-agent",
        "GitLab",
        "Kubernetes agent token",
        High,
        ["glagent-"],
        r"\b(glagent-[A-Za-z0-9_\-]{50})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "gitlab-oauth-secret",
        "GitLab",
        "OAuth application secret",
        High,
        ["gloas-"],
        r"\b(gloas-[A-Za-z0-9_\-]{64})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "bitbucket-app-password",
        "Bitbucket",
        "app password",
        High,
        ["atbb"],
        r"\b(ATBB[A-Za-z0-9_=.\-]{28,})(?:[^A-Za-z0-9_=.\-]|$)"
    ),
    p!("npm-token", "npm", "access token", Critical, ["npm_"], r"\b(npm_[A-Za-z0-9]{30,40})(?:[^A-Za-z0-9]|$)"),
    p!(
        "pypi-token",
        "PyPI",
        "upload token",
        Critical,
        ["pypi-ageichlwas5vcmc"],
        r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})"
    ),
    p!(
        "pypi-test-token",
        "TestPyPI",
        "upload token",
        High,
        ["pypi-agenrgvzdc5wexbpl"],
        r"\b(pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_\-]{50,})"
    ),
    p!("rubygems-token", "RubyGems", "API key", Critical, ["rubygems_"], r"\b(rubygems_[a-f0-9]{48})(?:[^a-f0-9]|$)"),
    p!("clojars-token", "Clojars", "deploy token", High, ["clojars_"], r"(?i)\b(CLOJARS_[a-z0-9]{60})(?:[^a-z0-9]|$)"),
    p!("nuget-key", "NuGet", "API key", High, ["oy2"], r"\b(oy2[a-z0-9]{43})(?:[^a-z0-9]|$)", 3.3),
    p!(
        "docker-hub-pat",
        "Docker Hub",
        "personal access token",
        High,
        ["dckr_pat_"],
        r"\b(dckr_pat_[A-Za-z0-9_\-]{27})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "docker-hub-oat",
        "Docker Hub",
        "organisation access token",
        High,
        ["dckr_oat_"],
        r"\b(dckr_oat_[A-Za-z0-9_\-]{32})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "jfrog-reference-token",
        "JFrog",
        "reference token",
        High,
        ["cmvmtko"],
        r"\b(cmVmdGtu[A-Za-z0-9]{56})(?:[^A-Za-z0-9]|$)"
    ),
    p!("jfrog-api-key", "JFrog Artifactory", "API key", High, ["akcp"], r"\b(AKCp[A-Za-z0-9]{69})(?:[^A-Za-z0-9]|$)"),
    p!(
        "sonarqube-token",
        "SonarQube",
        "token",
        High,
        ["squ_", "sqp_", "sqa_"],
        r"\b(sq[upa]_[a-f0-9]{40})(?:[^a-f0-9]|$)"
    ),
    p!(
        "sourcegraph-token",
        "Sourcegraph",
        "access token",
        High,
        ["sgp_"],
        r"\b(sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40})(?:[^a-fA-F0-9]|$)"
    ),
    p!(
        "buildkite-token",
        "Buildkite",
        "agent or API token",
        High,
        ["bkua_", "bkct_"],
        r"\b(bk(?:ua|ct)_[a-f0-9]{40})(?:[^a-f0-9]|$)"
    ),
    p!(
        "circleci-pat",
        "CircleCI",
        "personal API token",
        High,
        ["ccipat_"],
        r"\b(CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})(?:[^a-f0-9]|$)"
    ),
    p!("octopus-api-key", "Octopus Deploy", "API key", High, ["api-"], r"\b(API-[A-Z0-9]{26})(?:[^A-Z0-9]|$)", 3.3),
    p!(
        "harness-pat",
        "Harness",
        "access token",
        High,
        ["pat.", "sat."],
        r"\b((?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[0-9a-f]{24}\.[A-Za-z0-9]{20})(?:[^A-Za-z0-9]|$)"
    ),
    p!("prefect-key", "Prefect", "API key", High, ["pnu_"], r"\b(pnu_[A-Za-z0-9]{36})(?:[^A-Za-z0-9]|$)"),
    p!("pulumi-token", "Pulumi", "access token", High, ["pul-"], r"\b(pul-[a-f0-9]{40})(?:[^a-f0-9]|$)"),
    p!(
        "terraform-cloud-token",
        "Terraform Cloud",
        "API token",
        Critical,
        ["atlasv1"],
        r"\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70})"
    ),
    p!(
        "vault-service-token",
        "HashiCorp Vault",
        "service token",
        Critical,
        ["hvs."],
        r"\b(hvs\.[A-Za-z0-9_\-]{90,120})"
    ),
    p!("vault-batch-token", "HashiCorp Vault", "batch token", High, ["hvb."], r"\b(hvb\.[A-Za-z0-9_\-]{138,300})"),
    p!(
        "doppler-token",
        "Doppler",
        "token",
        Critical,
        ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
        r"\b(dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})(?:[^A-Za-z0-9]|$)"
    ),
    p!("infracost-key", "Infracost", "API key", High, ["ico-"], r"\b(ico-[A-Za-z0-9]{32})(?:[^A-Za-z0-9]|$)"),
    p!("readme-key", "ReadMe", "API key", High, ["rdme_"], r"\b(rdme_[a-z0-9]{70})(?:[^a-z0-9]|$)"),
    p!(
        "scalingo-token",
        "Scalingo",
        "API token",
        High,
        ["tk-us-"],
        r"\b(tk-us-[A-Za-z0-9_\-]{48})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "typeform-token",
        "Typeform",
        "personal token",
        High,
        ["tfp_"],
        r"\b(tfp_[A-Za-z0-9_\-.=]{59})(?:[^A-Za-z0-9_\-.=]|$)"
    ),
    p!("linear-key", "Linear", "API key", High, ["lin_api_"], r"\b(lin_api_[A-Za-z0-9]{40})(?:[^A-Za-z0-9]|$)"),
    p!(
        "postman-key",
        "Postman",
        "API key",
        High,
        ["pmak-"],
        r"\b(PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34})(?:[^a-fA-F0-9]|$)"
    ),
    p!("frameio-token", "Frame.io", "API token", High, ["fio-u-"], r"\b(fio-u-[A-Za-z0-9_=\-]{64})"),
    p!(
        "contentful-pat",
        "Contentful",
        "personal access token",
        High,
        ["cfpat-"],
        r"\b(CFPAT-[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!("atlassian-token", "Atlassian", "API token", High, ["atatt3"], r"\b(ATATT3[A-Za-z0-9_\-=]{186})"),
    p!(
        "airtable-pat",
        "Airtable",
        "personal access token",
        High,
        ["pat"],
        r"\b(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})(?:[^a-f0-9]|$)"
    ),
    p!(
        "asana-pat",
        "Asana",
        "personal access token",
        High,
        ["/1"],
        r"\b([0-9]/1[0-9]{15,17}:[a-f0-9]{32})(?:[^a-f0-9]|$)"
    ),
    p!(
        "notion-token",
        "Notion",
        "integration token",
        High,
        ["ntn_", "secret_"],
        r"\b(ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})(?:[^A-Za-z0-9]|$)",
        3.5
    ),
    p!(
        "hubspot-pat",
        "HubSpot",
        "private app token",
        High,
        ["pat-na1-", "pat-eu1-"],
        r"\b(pat-(?:na|eu)1-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})(?:[^a-f0-9]|$)"
    ),
    p!(
        "figma-pat",
        "Figma",
        "personal access token",
        High,
        ["figd_"],
        r"\b(figd_[A-Za-z0-9_\-]{40})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "shortcut-token",
        "Shortcut",
        "API token",
        Medium,
        ["shortcut"],
        r"(?i:shortcut)[\w.\-]{0,30}[\x22']?\s*[:=]\s*[\x22']?([a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})"
    ),
    // --- Payments and commerce
    p!(
        "stripe-secret",
        "Stripe",
        "secret key",
        Critical,
        ["sk_live_", "sk_test_", "sk_prod_"],
        r"\b(sk_(?:live|test|prod)_[A-Za-z0-9]{10,99})(?:[^A-Za-z0-9]|$)"
    ),
    p!(
        "stripe-restricted",
        "Stripe",
        "restricted key",
        Critical,
        ["rk_live_", "rk_test_", "rk_prod_"],
        r"\b(rk_(?:live|test|prod)_[A-Za-z0-9]{10,99})(?:[^A-Za-z0-9]|$)"
    ),
    p!("stripe-webhook", "Stripe", "webhook signing secret", High, ["whsec_"], r"\b(whsec_[A-Za-z0-9+/=]{32,})"),
    p!(
        "shopify-token",
        "Shopify",
        "access token or shared secret",
        Critical,
        ["shpat_", "shpca_", "shppa_", "shpss_"],
        r"\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})(?:[^a-fA-F0-9]|$)"
    ),
    p!(
        "square-token",
        "Square",
        "access token",
        Critical,
        ["sq0atp-", "eaaa"],
        r"\b(sq0atp-[A-Za-z0-9_\-]{22}|EAAA[A-Za-z0-9_\-+=]{60})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "square-secret",
        "Square",
        "application secret",
        Critical,
        ["sq0csp-"],
        r"\b(sq0csp-[A-Za-z0-9_\-]{40,50})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "flutterwave-secret",
        "Flutterwave",
        "secret key",
        Critical,
        ["flwseck"],
        r"\b(FLWSECK(?:_TEST)?-[a-hA-H0-9]{32}-X)"
    ),
    p!(
        "flutterwave-encryption",
        "Flutterwave",
        "encryption key",
        High,
        ["flwseck_test"],
        r"\b(FLWSECK_TEST[a-hA-H0-9]{12})(?:[^a-hA-H0-9]|$)"
    ),
    p!("duffel-token", "Duffel", "API token", High, ["duffel_"], r"\b(duffel_(?:test|live)_[A-Za-z0-9_\-=]{43})"),
    p!("easypost-key", "EasyPost", "API key", High, ["ezak", "eztk"], r"\b(EZ[AT]K[A-Za-z0-9]{54})(?:[^A-Za-z0-9]|$)"),
    p!(
        "shippo-token",
        "Shippo",
        "API token",
        High,
        ["shippo_"],
        r"\b(shippo_(?:live|test)_[a-fA-F0-9]{40})(?:[^a-fA-F0-9]|$)"
    ),
    p!(
        "plaid-access-token",
        "Plaid",
        "access token",
        Critical,
        ["access-sandbox-", "access-development-", "access-production-"],
        r"\b(access-(?:sandbox|development|production)-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})"
    ),
    p!(
        "gocardless-token",
        "GoCardless",
        "access token",
        Critical,
        ["live_", "sandbox_"],
        r"(?i:gocardless)[^\n]{0,40}?\b((?:live|sandbox)_[A-Za-z0-9_\-=]{40})"
    ),
    p!(
        "checkout-secret",
        "Checkout.com",
        "secret key",
        Critical,
        ["sk_sbox_", "sk_"],
        r"\b(sk_(?:sbox_)?[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{12})"
    ),
    p!(
        "coinbase-key",
        "Coinbase",
        "CDP API key name",
        Medium,
        ["organizations/"],
        r"\b(organizations/[a-f0-9\-]{36}/apiKeys/[a-f0-9\-]{36})"
    ),
    // --- Cloud and infrastructure
    p!(
        "aws-access-key-id",
        "AWS",
        "access key id",
        Critical,
        ["akia", "asia", "abia", "acca", "a3t"],
        r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?:[^A-Za-z0-9]|$)",
        3.0
    ),
    p!(
        "aws-secret-key",
        "AWS",
        "secret access key",
        Critical,
        ["aws", "secret_access", "secretaccess", "secret-access"],
        r#"(?i)(?:aws|secret[_.\-]?access)[\w.\-]{0,30}["']?\s*(?::=|=>|=|:|,)\s*["'`]?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        4.0
    ),
    p!("aws-bedrock-key", "AWS Bedrock", "API key", Critical, ["absk"], r"\b(ABSK[A-Za-z0-9+/]{109,269}={0,2})"),
    p!(
        "alibaba-access-key",
        "Alibaba Cloud",
        "AccessKey id",
        High,
        ["ltai"],
        r"\b(LTAI[A-Za-z0-9]{20})(?:[^A-Za-z0-9]|$)"
    ),
    p!("google-api-key", "Google", "API key", High, ["aiza"], r"\b(AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)"),
    p!(
        "google-oauth-secret",
        "Google",
        "OAuth client secret",
        Critical,
        ["gocspx-"],
        r"\b(GOCSPX-[A-Za-z0-9_\-]{28})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!("google-oauth-token", "Google", "OAuth access token", High, ["ya29."], r"\b(ya29\.[0-9A-Za-z_\-]{30,})"),
    p!(
        "gcp-service-account",
        "Google Cloud",
        "service account key",
        Critical,
        ["service_account"],
        r#"("type"\s*:\s*"service_account")"#,
        0.0
    ),
    p!(
        "firebase-fcm-key",
        "Firebase",
        "Cloud Messaging server key",
        High,
        ["aaaa"],
        r"\b(AAAA[A-Za-z0-9_\-]{7}:[A-Za-z0-9_\-]{140})"
    ),
    p!(
        "azure-ad-client-secret",
        "Azure AD",
        "client secret",
        Critical,
        ["q~"],
        r"(?:^|[\x22'`\s>=:(,)])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)"
    ),
    p!(
        "azure-storage-key",
        "Azure Storage",
        "account key",
        Critical,
        ["accountkey", "account_key", "storage"],
        r"(?i:accountkey|account_key|storage[\w.\-]{0,20}key)[\x22']?\s*[:=]\s*[\x22']?([A-Za-z0-9+/]{86}==)"
    ),
    p!(
        "azure-sas-token",
        "Azure Storage",
        "SAS signature",
        High,
        ["sig="],
        r"[?&]sv=\d{4}-\d\d-\d\d[^\s\x22']*?[?&]sig=([A-Za-z0-9%+/]{40,}(?:%3D|=){0,2})"
    ),
    p!(
        "azure-devops-pat",
        "Azure DevOps",
        "personal access token",
        Critical,
        ["azdo"],
        r"\b([A-Za-z0-9]{52}AZDO[A-Za-z0-9]{24,28})(?:[^A-Za-z0-9]|$)"
    ),
    p!(
        "azure-apim-key",
        "Azure",
        "key with APIM/ACR signature",
        High,
        ["azse", "acr", "apim"],
        r"\b([A-Za-z0-9]{52}(?:AzSe|\+ACR|APIM)[A-Za-z0-9+/]{4,32})"
    ),
    p!(
        "digitalocean-token",
        "DigitalOcean",
        "token",
        Critical,
        ["dop_v1_", "doo_v1_", "dor_v1_"],
        r"\b(do[por]_v1_[a-f0-9]{64})(?:[^a-f0-9]|$)"
    ),
    p!(
        "cloudflare-origin-ca",
        "Cloudflare",
        "Origin CA key",
        High,
        ["v1.0-"],
        r"\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})(?:[^a-f0-9]|$)"
    ),
    p!(
        "fly-token",
        "Fly.io",
        "access token",
        Critical,
        ["fo1_", "fm1r_", "fm1a_", "fm2_"],
        r"\b((?:fo1_[\w\-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3}))"
    ),
    p!(
        "databricks-token",
        "Databricks",
        "API token",
        Critical,
        ["dapi"],
        r"\b(dapi[a-f0-9]{32}(?:-\d)?)(?:[^a-f0-9]|$)"
    ),
    p!(
        "dynatrace-token",
        "Dynatrace",
        "API token",
        High,
        ["dt0c01."],
        r"\b(dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})(?:[^A-Z0-9]|$)"
    ),
    p!("new-relic-user-key", "New Relic", "user API key", High, ["nrak-"], r"\b(NRAK-[A-Z0-9]{27})(?:[^A-Z0-9]|$)"),
    p!(
        "new-relic-insert-key",
        "New Relic",
        "insert key",
        High,
        ["nrii-"],
        r"\b(NRII-[A-Za-z0-9_\-]{32})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!("new-relic-admin-key", "New Relic", "admin API key", High, ["nraa-"], r"\b(NRAA-[a-f0-9]{27})(?:[^a-f0-9]|$)"),
    p!(
        "new-relic-browser-key",
        "New Relic",
        "browser API token",
        Medium,
        ["nrjs-"],
        r"\b(NRJS-[a-f0-9]{19})(?:[^a-f0-9]|$)"
    ),
    p!("grafana-api-key", "Grafana", "API key", High, ["eyjrijoi"], r"\b(eyJrIjoi[A-Za-z0-9]{70,400}={0,3})"),
    p!("grafana-cloud-token", "Grafana Cloud", "API token", High, ["glc_"], r"\b(glc_[A-Za-z0-9+/]{32,400}={0,3})"),
    p!(
        "grafana-service-account",
        "Grafana",
        "service account token",
        High,
        ["glsa_"],
        r"\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})(?:[^A-Fa-f0-9]|$)"
    ),
    p!(
        "sentry-org-token",
        "Sentry",
        "organisation token",
        High,
        ["sntrys_"],
        r"\b(sntrys_eyJ[A-Za-z0-9+/=_]{60,}(?:_[A-Za-z0-9+/]{43})?)"
    ),
    p!("sentry-user-token", "Sentry", "user token", High, ["sntryu_"], r"\b(sntryu_[a-f0-9]{64})(?:[^a-f0-9]|$)"),
    p!(
        "openshift-token",
        "OpenShift",
        "user token",
        High,
        ["sha256~"],
        r"\b(sha256~[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "planetscale-token",
        "PlanetScale",
        "token or password",
        Critical,
        ["pscale_"],
        r"\b(pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.\-]{32,64})"
    ),
    p!(
        "supabase-token",
        "Supabase",
        "access token or secret key",
        Critical,
        ["sbp_", "sb_secret_"],
        r"\b(sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_\-]{31,})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!("render-key", "Render", "API key", High, ["rnd_"], r"\b(rnd_[A-Za-z0-9]{32})(?:[^A-Za-z0-9]|$)"),
    p!(
        "vercel-token",
        "Vercel",
        "token",
        High,
        ["vcp_", "vci_", "vca_", "vcr_", "vck_"],
        r"\b(vc[pirak]_[A-Za-z0-9]{56})(?:[^A-Za-z0-9]|$)"
    ),
    p!(
        "tailscale-key",
        "Tailscale",
        "API or auth key",
        Critical,
        ["tskey-"],
        r"\b(tskey-(?:api|auth|client|scim|webhook)-[A-Za-z0-9]{8,}-[A-Za-z0-9]{16,})"
    ),
    p!(
        "ngrok-token",
        "ngrok",
        "auth token",
        High,
        ["ngrok"],
        r"(?i:ngrok)[^\n]{0,40}?\b([0-9][A-Za-z0-9]{26}_[A-Za-z0-9]{21})(?:[^A-Za-z0-9]|$)"
    ),
    p!(
        "yandex-token",
        "Yandex Cloud",
        "token or key",
        High,
        ["t1.", "aqvn", "yc"],
        r"\b(t1\.[A-Z0-9a-z_\-]+[=]{0,2}\.[A-Z0-9a-z_\-]{86}[=]{0,2}|AQVN[A-Za-z0-9_\-]{35,38}|YC[A-Za-z0-9_\-]{38})(?:[^A-Za-z0-9_\-]|$)",
        3.5
    ),
    p!(
        "oracle-oci-key",
        "Oracle Cloud",
        "auth token fingerprint",
        Medium,
        ["ocid1.user"],
        r"\b(ocid1\.user\.oc1\.\.[a-z0-9]{60})"
    ),
    p!(
        "ibm-cloud-key",
        "IBM Cloud",
        "API key",
        High,
        ["ibm"],
        r"(?i:ibm)[\w.\-]{0,30}[\x22']?\s*[:=]\s*[\x22']?([A-Za-z0-9_\-]{44})(?:[^A-Za-z0-9_\-]|$)",
        3.8
    ),
    p!(
        "heroku-key-v2",
        "Heroku",
        "API key",
        Critical,
        ["hrku-"],
        r"\b(HRKU-AA[0-9A-Za-z_\-]{58})(?:[^0-9A-Za-z_\-]|$)"
    ),
    p!(
        "onepassword-service-token",
        "1Password",
        "service account token",
        Critical,
        ["ops_eyj"],
        r"\b(ops_eyJ[A-Za-z0-9+/]{250,}={0,3})"
    ),
    p!(
        "onepassword-secret-key",
        "1Password",
        "account secret key",
        Critical,
        ["a3-"],
        r"\b(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})(?:[^A-Z0-9]|$)"
    ),
    p!(
        "age-secret-key",
        "age",
        "secret key",
        Critical,
        ["age-secret-key-1"],
        r"\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})"
    ),
    p!(
        "salesforce-token",
        "Salesforce",
        "access token",
        Critical,
        ["00d"],
        r"\b(00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{90,})"
    ),
    p!(
        "kubernetes-bootstrap",
        "Kubernetes",
        "bootstrap token",
        High,
        ["token", "kubeadm", "join"],
        r"(?i:token|kubeadm|join)[^\n]{0,40}?\b([a-z0-9]{6}\.[a-z0-9]{16})(?:[^a-z0-9.]|$)",
        3.0
    ),
    // --- AI and machine learning
    p!(
        "openai-key",
        "OpenAI",
        "API key",
        Critical,
        ["sk-"],
        r"\b(sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_\-]{20,74}T3BlbkFJ[A-Za-z0-9_\-]{20,74})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "openai-project-key",
        "OpenAI",
        "project or service key",
        Critical,
        ["sk-proj-", "sk-svcacct-", "sk-admin-"],
        r"\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "anthropic-key",
        "Anthropic",
        "API key",
        Critical,
        ["sk-ant-"],
        r"\b(sk-ant-(?:api|admin|sid)\d\d-[A-Za-z0-9_\-]{80,100}(?:AA)?)(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!("openrouter-key", "OpenRouter", "API key", Critical, ["sk-or-"], r"\b(sk-or-v1-[a-f0-9]{64})(?:[^a-f0-9]|$)"),
    p!(
        "openai-like-key",
        "OpenAI-compatible API (DeepSeek, Moonshot and others)",
        "API key",
        High,
        ["sk-"],
        r"(?:^|[^A-Za-z0-9_\-])(sk-[A-Za-z0-9]{32,64})(?:[^A-Za-z0-9_\-]|$)",
        3.8
    ),
    p!(
        "huggingface-token",
        "Hugging Face",
        "access token",
        Critical,
        ["hf_"],
        r"\b(hf_[A-Za-z0-9]{30,40})(?:[^A-Za-z0-9]|$)"
    ),
    p!(
        "huggingface-org-token",
        "Hugging Face",
        "organisation token",
        Critical,
        ["api_org_"],
        r"\b(api_org_[A-Za-z]{34})(?:[^A-Za-z0-9]|$)"
    ),
    p!("groq-key", "Groq", "API key", Critical, ["gsk_"], r"\b(gsk_[A-Za-z0-9]{52})(?:[^A-Za-z0-9]|$)"),
    p!("xai-key", "xAI", "API key", Critical, ["xai-"], r"\b(xai-[A-Za-z0-9]{80})(?:[^A-Za-z0-9]|$)"),
    p!("perplexity-key", "Perplexity", "API key", Critical, ["pplx-"], r"\b(pplx-[A-Za-z0-9]{48})(?:[^A-Za-z0-9]|$)"),
    p!("replicate-token", "Replicate", "API token", Critical, ["r8_"], r"\b(r8_[A-Za-z0-9]{37})(?:[^A-Za-z0-9]|$)"),
    p!("cerebras-key", "Cerebras", "API key", High, ["csk-"], r"\b(csk-[a-z0-9]{48})(?:[^a-z0-9]|$)"),
    p!("fireworks-key", "Fireworks AI", "API key", High, ["fw_"], r"\b(fw_[A-Za-z0-9]{24})(?:[^A-Za-z0-9]|$)", 3.5),
    p!(
        "langsmith-key",
        "LangSmith",
        "API key",
        High,
        ["lsv2_"],
        r"\b(lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})(?:[^a-f0-9]|$)"
    ),
    p!("pinecone-key", "Pinecone", "API key", High, ["pcsk_"], r"\b(pcsk_[A-Za-z0-9_]{60,})"),
    p!(
        "elevenlabs-key",
        "ElevenLabs",
        "API key",
        High,
        ["sk_"],
        r"(?i:elevenlabs|eleven_labs|xi[_\-]api[_\-]key)[^\n]{0,40}?\b(sk_[a-f0-9]{48})(?:[^a-f0-9]|$)"
    ),
    p!(
        "wandb-key",
        "Weights & Biases",
        "API key",
        High,
        ["wandb"],
        r"(?i:wandb)[^\n]{0,40}?\b([a-f0-9]{40})(?:[^a-f0-9]|$)"
    ),
    // --- Communication
    p!(
        "slack-bot-token",
        "Slack",
        "bot token",
        Critical,
        ["xoxb-"],
        r"\b(xoxb-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9\-]*)"
    ),
    p!(
        "slack-user-token",
        "Slack",
        "user token",
        Critical,
        ["xoxp-", "xoxe-"],
        r"\b(xox[pe](?:-[0-9]{4,13}){3}-[A-Za-z0-9]{16,34})(?:[^A-Za-z0-9]|$)"
    ),
    p!("slack-app-token", "Slack", "app-level token", Critical, ["xapp-"], r"(?i)\b(xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+)"),
    p!(
        "slack-config-token",
        "Slack",
        "configuration token",
        High,
        ["xoxe.xox"],
        r"(?i)\b(xoxe\.xox[bp]-\d-[A-Z0-9]{163,166})"
    ),
    p!(
        "slack-config-refresh",
        "Slack",
        "configuration refresh token",
        High,
        ["xoxe-1-"],
        r"(?i)\b(xoxe-\d-[A-Z0-9]{146})"
    ),
    p!(
        "slack-legacy-token",
        "Slack",
        "legacy token",
        High,
        ["xoxa-", "xoxo-", "xoxs-", "xoxr-", "xoxb-"],
        r"\b(xox[aosrb]-(?:\d+-)?[0-9A-Za-z]{8,48}(?:-[0-9A-Za-z]{6,48})*)",
        3.0
    ),
    p!(
        "slack-webhook",
        "Slack",
        "incoming webhook",
        High,
        ["hooks.slack.com"],
        r"(?i)((?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56})",
        0.0
    ),
    p!(
        "discord-webhook",
        "Discord",
        "webhook",
        High,
        ["discord"],
        r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,68})",
        0.0
    ),
    p!(
        "discord-bot-token",
        "Discord",
        "bot token",
        Critical,
        ["."],
        r"(?:^|[^A-Za-z0-9_\-.])([MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})(?:[^A-Za-z0-9_\-.]|$)",
        3.5
    ),
    p!(
        "teams-webhook",
        "Microsoft Teams",
        "incoming webhook",
        High,
        ["webhook.office.com", "outlook.office.com"],
        r"(https://[a-z0-9\-]+\.webhook\.office\.com/webhookb2/[a-z0-9\-]+@[a-z0-9\-]+/IncomingWebhook/[a-z0-9]{32}/[a-z0-9\-]{36}|https://outlook\.office\.com/webhook/[A-Za-z0-9@\-]+/IncomingWebhook/[a-z0-9]{32}/[a-z0-9\-]{36})",
        0.0
    ),
    p!(
        "telegram-bot-token",
        "Telegram",
        "bot token",
        Critical,
        [":aa", ":a"],
        r"(?:^|[^0-9A-Za-z_])([0-9]{5,16}:A[A-Za-z0-9_\-]{34})(?:[^A-Za-z0-9_\-]|$)",
        3.5
    ),
    p!("twilio-api-key", "Twilio", "API key", High, ["sk"], r"\b(SK[0-9a-fA-F]{32})(?:[^0-9a-fA-F]|$)", 3.2),
    p!(
        "sendgrid-key",
        "SendGrid",
        "API key",
        Critical,
        ["sg."],
        r"\b(SG\.[A-Za-z0-9_\-]{20,24}\.[A-Za-z0-9_\-]{39,50})(?:[^A-Za-z0-9_\-]|$)"
    ),
    p!(
        "sendinblue-key",
        "Brevo (Sendinblue)",
        "API or SMTP key",
        High,
        ["xkeysib-", "xsmtpsib-"],
        r"\b(x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16})(?:[^A-Za-z0-9]|$)"
    ),
    p!(
        "mailgun-key",
        "Mailgun",
        "private API key",
        High,
        ["key-"],
        r"(?:^|[^A-Za-z0-9_\-])(key-[a-f0-9]{32})(?:[^a-f0-9]|$)",
        3.2
    ),
    p!(
        "mailgun-signing-key",
        "Mailgun",
        "webhook signing key",
        High,
        ["mailgun"],
        r"(?i:mailgun)[^\n]{0,40}?\b([a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8})(?:[^a-h0-9]|$)"
    ),
    p!("mailchimp-key", "Mailchimp", "API key", High, ["-us"], r"\b([0-9a-f]{32}-us[0-9]{1,2})(?:[^0-9A-Za-z]|$)", 3.2),
    p!(
        "mandrill-key",
        "Mandrill",
        "API key",
        High,
        ["mandrill"],
        r"(?i:mandrill)[^\n]{0,40}?\b([A-Za-z0-9_\-]{22})(?:[^A-Za-z0-9_\-]|$)",
        3.3
    ),
    p!(
        "postmark-token",
        "Postmark",
        "server token",
        High,
        ["postmark"],
        r"(?i:postmark)[^\n]{0,40}?\b([a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})"
    ),
    p!(
        "messagebird-key",
        "MessageBird",
        "API key",
        High,
        ["messagebird", "message_bird", "message-bird"],
        r"(?i:message[_\-]?bird)[^\n]{0,40}?\b([A-Za-z0-9]{25})(?:[^A-Za-z0-9]|$)",
        3.3
    ),
    p!(
        "sendbird-token",
        "Sendbird",
        "access token",
        High,
        ["sendbird"],
        r"(?i:sendbird)[^\n]{0,40}?\b([a-f0-9]{40})(?:[^a-f0-9]|$)"
    ),
    p!(
        "twitter-bearer",
        "X (Twitter)",
        "bearer token",
        High,
        ["aaaaaaaaaaaaaaaaaaaa"],
        r"\b(A{22}[A-Za-z0-9%]{80,100})"
    ),
    p!("facebook-token", "Facebook", "access token", High, ["eaa"], r"\b(EAA[MC][A-Za-z0-9]{100,})"),
    p!("facebook-page-token", "Facebook", "page access token", High, ["eaab", "eaac"], r"\b(EAA[BC][A-Za-z0-9]{100,})"),
    p!(
        "mapbox-secret",
        "Mapbox",
        "secret token",
        High,
        ["sk.eyj"],
        r"\b(sk\.eyJ[A-Za-z0-9_\-]{40,}\.[A-Za-z0-9_\-]{20,})"
    ),
    p!(
        "cloudinary-url",
        "Cloudinary",
        "URL with API secret",
        High,
        ["cloudinary://"],
        r"(cloudinary://[0-9]{10,16}:[A-Za-z0-9_\-]{20,40}@[a-z0-9_\-]+)",
        0.0
    ),
    p!(
        "maxmind-key",
        "MaxMind",
        "license key",
        High,
        ["_mmk"],
        r"\b([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)(?:[^A-Za-z0-9]|$)"
    ),
    p!(
        "pagerduty-token",
        "PagerDuty",
        "API token",
        High,
        ["pagerduty", "pager_duty"],
        r"(?i:pager[_\-]?duty)[^\n]{0,40}?\b(u\+[A-Za-z0-9_+\-]{18})(?:[^A-Za-z0-9_+\-]|$)"
    ),
    p!(
        "zapier-webhook",
        "Zapier",
        "webhook",
        Medium,
        ["hooks.zapier.com"],
        r"(https://hooks\.zapier\.com/hooks/catch/[0-9]+/[a-z0-9]+/?)",
        0.0
    ),
    p!("beamer-token", "Beamer", "API token", High, ["b_"], r"(?i:beamer)[^\n]{0,40}?\b(b_[A-Za-z0-9=_\-]{44})"),
    p!(
        "lob-key",
        "Lob",
        "API key",
        High,
        ["live_", "test_"],
        r"(?i:lob)[\w.\-]{0,30}[^\n]{0,20}?\b((?:live|test)_(?:pub_)?[a-f0-9]{31,35})(?:[^a-f0-9]|$)"
    ),
    p!(
        "dropbox-short-lived",
        "Dropbox",
        "short-lived token",
        High,
        ["sl."],
        r"(?i:dropbox)[^\n]{0,40}?\b(sl\.[A-Za-z0-9_\-=]{130,})"
    ),
    p!(
        "dropbox-long-lived",
        "Dropbox",
        "long-lived token",
        High,
        ["aaaaaaaaaa"],
        r"(?i:dropbox)[^\n]{0,40}?\b([A-Za-z0-9]{11}AAAAAAAAAA[A-Za-z0-9_=\-]{43})"
    ),
    p!(
        "privateai-key",
        "Private AI",
        "API key",
        Medium,
        ["private_ai", "private-ai", "privateai"],
        r"(?i:private[_\-]?ai)[^\n]{0,40}?\b([A-Za-z0-9]{32})(?:[^A-Za-z0-9]|$)",
        3.3
    ),
    p!(
        "intra42-secret",
        "42 Intra",
        "client secret",
        High,
        ["s-s4t2"],
        r"\b(s-s4t2(?:ud|af)-[a-f0-9]{64})(?:[^a-f0-9]|$)"
    ),
    p!(
        "gitlab-session-cookie",
        "GitLab",
        "session cookie",
        High,
        ["_gitlab_session"],
        r"_gitlab_session=([0-9a-z]{32})(?:[^0-9a-z]|$)"
    ),
    p!(
        "clickhouse-cloud-secret",
        "ClickHouse Cloud",
        "API secret key",
        High,
        ["4b1d"],
        r"\b(4b1d[A-Za-z0-9]{38})(?:[^A-Za-z0-9]|$)"
    ),
    p!(
        "settlemint-token",
        "SettleMint",
        "access token",
        High,
        ["sm_aat_", "sm_pat_", "sm_sat_"],
        r"\b(sm_(?:aat|pat|sat)_[A-Za-z0-9]{16})(?:[^A-Za-z0-9]|$)"
    ),
    p!(
        "sidekiq-secret",
        "Sidekiq Enterprise",
        "gem server credentials",
        High,
        ["contribsys"],
        r"(?i:contribsys__com)[\x22']?\s*[:=]\s*[\x22']?([a-f0-9]{8}:[a-f0-9]{8})(?:[^a-f0-9]|$)"
    ),
    p!(
        "aws-bedrock-short-lived",
        "AWS Bedrock",
        "short-lived API key",
        Critical,
        ["bedrock-api-key-"],
        r"\b(bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%\-_]{20,})"
    ),
    p!("adobe-client-secret", "Adobe", "client secret", High, ["p8e-"], r"\b(p8e-[A-Za-z0-9]{32})(?:[^A-Za-z0-9]|$)"),
    p!(
        "mux-token",
        "Mux",
        "token secret",
        Medium,
        ["mux"],
        r"(?i:mux)[\w.\-]{0,20}secret[^\n]{0,20}?\b([A-Za-z0-9+/]{75})(?:[^A-Za-z0-9+/]|$)"
    ),
];

/// Contextual providers: `<service…key|token|secret> = <value of this shape>`.
pub const CONTEXTUAL: &[Contextual] = &[
    Contextual { id: "heroku-key", service: "Heroku", keywords: &["heroku"], value: UUID },
    Contextual { id: "adafruit-key", service: "Adafruit IO", keywords: &["adafruit"], value: r"[A-Za-z0-9_\-]{32}" },
    Contextual { id: "adobe-client-id", service: "Adobe", keywords: &["adobe"], value: HEX32 },
    Contextual {
        id: "alibaba-secret",
        service: "Alibaba Cloud",
        keywords: &["alibaba", "aliyun"],
        value: r"[A-Za-z0-9]{30}",
    },
    Contextual {
        id: "discord-secret",
        service: "Discord",
        keywords: &["discord"],
        value: r"[a-f0-9]{64}|[A-Za-z0-9_\-]{32}|[0-9]{18}",
    },
    Contextual { id: "dropbox-token", service: "Dropbox", keywords: &["dropbox"], value: r"[a-z0-9]{15}" },
    Contextual { id: "hubspot-key", service: "HubSpot", keywords: &["hubspot"], value: UUID },
    Contextual {
        id: "jfrog-identity-token",
        service: "JFrog",
        keywords: &["jfrog", "artifactory"],
        value: r"[a-z0-9]{64}|[A-Za-z0-9]{73}",
    },
    Contextual {
        id: "messagebird-client-id",
        service: "MessageBird",
        keywords: &["messagebird", "message_bird", "message-bird"],
        value: UUID,
    },
    Contextual { id: "sendbird-app-id", service: "Sendbird", keywords: &["sendbird"], value: UUID },
    Contextual {
        id: "contentful-token",
        service: "Contentful",
        keywords: &["contentful"],
        value: r"[A-Za-z0-9=_\-]{43}",
    },
    Contextual { id: "algolia-key", service: "Algolia", keywords: &["algolia"], value: HEX32 },
    Contextual {
        id: "airtable-key",
        service: "Airtable",
        keywords: &["airtable"],
        value: r"key[A-Za-z0-9]{14}|[A-Za-z0-9]{17}",
    },
    Contextual { id: "amplitude-key", service: "Amplitude", keywords: &["amplitude"], value: HEX32 },
    Contextual { id: "asana-secret", service: "Asana", keywords: &["asana"], value: r"[0-9]{16}|[a-z0-9]{32}" },
    Contextual {
        id: "atlassian-legacy",
        service: "Atlassian (Jira, Confluence)",
        keywords: &["atlassian", "jira", "confluence"],
        value: r"[A-Za-z0-9]{24}",
    },
    Contextual { id: "auth0-secret", service: "Auth0", keywords: &["auth0"], value: r"[A-Za-z0-9_\-]{32,64}" },
    Contextual {
        id: "authress-key",
        service: "Authress",
        keywords: &["authress"],
        value: r"(?:sc|ext|scauth|authress)_[a-z0-9]{5,30}\.[a-z0-9]{4,6}\.acc[_\-][a-z0-9\-]{10,32}\.[A-Za-z0-9+/_=\-]{30,120}",
    },
    Contextual {
        id: "bitbucket-secret",
        service: "Bitbucket",
        keywords: &["bitbucket"],
        value: r"[A-Za-z0-9=_\-]{32,64}",
    },
    Contextual { id: "bittrex-key", service: "Bittrex", keywords: &["bittrex"], value: HEX32 },
    Contextual { id: "bitly-token", service: "Bitly", keywords: &["bitly"], value: HEX40 },
    Contextual { id: "bugsnag-key", service: "Bugsnag", keywords: &["bugsnag"], value: HEX32 },
    Contextual {
        id: "circleci-token",
        service: "CircleCI",
        keywords: &["circleci", "circle_token", "circle-token"],
        value: HEX40,
    },
    Contextual { id: "cisco-meraki-key", service: "Cisco Meraki", keywords: &["meraki"], value: HEX40 },
    Contextual {
        id: "clickup-token",
        service: "ClickUp",
        keywords: &["clickup"],
        value: r"pk_[0-9]{6,10}_[A-Z0-9]{32}",
    },
    Contextual {
        id: "cloudflare-key",
        service: "Cloudflare",
        keywords: &["cloudflare", "cf_api"],
        value: r"[A-Za-z0-9_\-]{40}|[a-f0-9]{37}",
    },
    Contextual {
        id: "codecov-token",
        service: "Codecov",
        keywords: &["codecov"],
        value: r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}|[a-z0-9]{32}",
    },
    Contextual { id: "cohere-key", service: "Cohere", keywords: &["cohere", "co_api"], value: r"[A-Za-z0-9]{40}" },
    Contextual { id: "coinbase-token", service: "Coinbase", keywords: &["coinbase"], value: r"[A-Za-z0-9_\-]{64}" },
    Contextual {
        id: "confluent-key",
        service: "Confluent",
        keywords: &["confluent"],
        value: r"[A-Za-z0-9+/]{64}|[A-Z0-9]{16}",
    },
    Contextual {
        id: "contentstack-token",
        service: "Contentstack",
        keywords: &["contentstack"],
        value: r"(?:cs|blt)[a-z0-9]{16,40}",
    },
    Contextual {
        id: "datadog-key",
        service: "Datadog",
        keywords: &["datadog", "dd_api", "dd_app", "dd-api", "dd-app", "ddog"],
        value: r"[a-f0-9]{40}|[a-f0-9]{32}",
    },
    Contextual { id: "deepgram-key", service: "Deepgram", keywords: &["deepgram"], value: HEX40 },
    Contextual {
        id: "defined-networking",
        service: "Defined Networking",
        keywords: &["dnkey"],
        value: r"dnkey-[a-z0-9=_\-]{26}-[a-z0-9=_\-]{52}",
    },
    Contextual {
        id: "droneci-token",
        service: "Drone CI",
        keywords: &["droneci", "drone_token", "drone-token"],
        value: r"[A-Za-z0-9]{32}",
    },
    Contextual { id: "etsy-token", service: "Etsy", keywords: &["etsy"], value: r"[a-z0-9]{24}" },
    Contextual {
        id: "facebook-secret",
        service: "Facebook",
        keywords: &["facebook", "fb_app", "fb_secret"],
        value: HEX32,
    },
    Contextual { id: "fastly-token", service: "Fastly", keywords: &["fastly"], value: r"[A-Za-z0-9_\-=]{32}" },
    Contextual {
        id: "finicity-secret",
        service: "Finicity",
        keywords: &["finicity"],
        value: r"[a-z0-9]{20}|[a-f0-9]{32}",
    },
    Contextual { id: "finnhub-token", service: "Finnhub", keywords: &["finnhub"], value: r"[a-z0-9]{20}" },
    Contextual { id: "flickr-token", service: "Flickr", keywords: &["flickr"], value: HEX32 },
    Contextual {
        id: "freemius-key",
        service: "Freemius",
        keywords: &["freemius", "secret_key"],
        value: r"sk_[A-Za-z0-9\-;_\\]{29}",
    },
    Contextual { id: "freshbooks-token", service: "FreshBooks", keywords: &["freshbooks"], value: r"[a-z0-9]{64}" },
    Contextual { id: "gitter-token", service: "Gitter", keywords: &["gitter"], value: r"[a-z0-9_\-]{40}" },
    Contextual { id: "gitea-token", service: "Gitea", keywords: &["gitea"], value: HEX40 },
    Contextual { id: "intercom-token", service: "Intercom", keywords: &["intercom"], value: r"[A-Za-z0-9=_\-]{60}" },
    Contextual {
        id: "intra42-secret",
        service: "42 Intra",
        keywords: &["intra", "42"],
        value: r"s-s4t2(?:ud|af)-[a-f0-9]{64}",
    },
    Contextual { id: "jumpcloud-key", service: "JumpCloud", keywords: &["jumpcloud"], value: HEX40 },
    Contextual { id: "kraken-token", service: "Kraken", keywords: &["kraken"], value: r"[A-Za-z0-9/=_+\-]{80,90}" },
    Contextual {
        id: "kucoin-token",
        service: "KuCoin",
        keywords: &["kucoin"],
        value: r"[a-f0-9]{24}|[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}",
    },
    Contextual {
        id: "launchdarkly-token",
        service: "LaunchDarkly",
        keywords: &["launchdarkly", "launch_darkly", "ld_sdk", "ld_api"],
        value: r"(?:api|sdk)-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}|[A-Za-z0-9=_\-]{40}",
    },
    Contextual { id: "linear-secret", service: "Linear", keywords: &["linear"], value: HEX32 },
    Contextual {
        id: "linkedin-secret",
        service: "LinkedIn",
        keywords: &["linkedin", "linked_in", "linked-in"],
        value: r"[A-Za-z0-9]{14,16}",
    },
    Contextual { id: "looker-secret", service: "Looker", keywords: &["looker"], value: r"[A-Za-z0-9]{24}" },
    Contextual { id: "mattermost-token", service: "Mattermost", keywords: &["mattermost"], value: r"[a-z0-9]{26}" },
    Contextual { id: "mistral-key", service: "Mistral AI", keywords: &["mistral"], value: r"[A-Za-z0-9]{32}" },
    Contextual { id: "netlify-token", service: "Netlify", keywords: &["netlify"], value: r"[A-Za-z0-9=_\-]{40,46}" },
    Contextual {
        id: "nytimes-token",
        service: "New York Times",
        keywords: &["nytimes", "new-york-times", "newyorktimes"],
        value: r"[A-Za-z0-9=_\-]{32}",
    },
    Contextual { id: "okta-token", service: "Okta", keywords: &["okta"], value: r"00[A-Za-z0-9=_\-]{40}" },
    Contextual { id: "opsgenie-key", service: "Opsgenie", keywords: &["opsgenie"], value: UUID },
    Contextual { id: "pusher-secret", service: "Pusher", keywords: &["pusher"], value: r"[a-f0-9]{20}" },
    Contextual { id: "railway-token", service: "Railway", keywords: &["railway"], value: UUID },
    Contextual {
        id: "rapidapi-key",
        service: "RapidAPI",
        keywords: &["rapidapi", "rapid_api", "x-rapidapi"],
        value: r"[A-Za-z0-9_\-]{50}",
    },
    Contextual { id: "segment-key", service: "Segment", keywords: &["segment"], value: r"[A-Za-z0-9]{32}" },
    Contextual { id: "sentry-token", service: "Sentry", keywords: &["sentry"], value: r"[a-f0-9]{64}" },
    Contextual { id: "snyk-token", service: "Snyk", keywords: &["snyk"], value: UUID },
    Contextual { id: "squarespace-token", service: "Squarespace", keywords: &["squarespace"], value: UUID },
    Contextual {
        id: "sumologic-key",
        service: "Sumo Logic",
        keywords: &["sumo"],
        value: r"[A-Za-z0-9]{64}|su[A-Za-z0-9]{12}",
    },
    Contextual { id: "splunk-token", service: "Splunk", keywords: &["splunk", "hec_token", "hec-token"], value: UUID },
    Contextual {
        id: "storyblok-token",
        service: "Storyblok",
        keywords: &["storyblok"],
        value: r"[A-Za-z0-9]{22}tt|[A-Za-z0-9]{24}",
    },
    Contextual { id: "travisci-token", service: "Travis CI", keywords: &["travis"], value: r"[A-Za-z0-9]{22}" },
    Contextual { id: "trello-token", service: "Trello", keywords: &["trello"], value: r"[a-f0-9]{64}|[a-f0-9]{32}" },
    Contextual { id: "twilio-auth-token", service: "Twilio", keywords: &["twilio"], value: HEX32 },
    Contextual { id: "twitch-token", service: "Twitch", keywords: &["twitch"], value: r"[a-z0-9]{30}" },
    Contextual {
        id: "twitter-secret",
        service: "X (Twitter)",
        keywords: &["twitter"],
        value: r"[A-Za-z0-9]{45,50}|[A-Za-z0-9]{25}|[0-9]{15,25}-[A-Za-z0-9]{20,40}",
    },
    Contextual { id: "together-key", service: "Together AI", keywords: &["together"], value: r"[a-f0-9]{64}" },
    Contextual { id: "assemblyai-key", service: "AssemblyAI", keywords: &["assemblyai", "assembly_ai"], value: HEX32 },
    Contextual { id: "zendesk-secret", service: "Zendesk", keywords: &["zendesk"], value: r"[A-Za-z0-9]{40}" },
    Contextual {
        id: "zoom-secret",
        service: "Zoom",
        keywords: &["zoom"],
        value: r"[A-Za-z0-9]{32}|[A-Za-z0-9_\-]{22}",
    },
    Contextual {
        id: "vercel-legacy",
        service: "Vercel",
        keywords: &["vercel", "now_token"],
        value: r"[A-Za-z0-9]{24}",
    },
    Contextual {
        id: "honeycomb-key",
        service: "Honeycomb",
        keywords: &["honeycomb"],
        value: r"[A-Za-z0-9]{22}|[a-z0-9]{32}",
    },
    Contextual {
        id: "ably-key",
        service: "Ably",
        keywords: &["ably"],
        value: r"[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{6}:[A-Za-z0-9_\-+/=]{43}",
    },
    Contextual { id: "mapbox-legacy", service: "Mapbox", keywords: &["mapbox"], value: r"sk\.[A-Za-z0-9._\-]{80,}" },
    Contextual { id: "vault-legacy", service: "HashiCorp Vault", keywords: &["vault"], value: r"s\.[A-Za-z0-9]{24}" },
    Contextual {
        id: "github-legacy",
        service: "GitHub (legacy 40-hex token)",
        keywords: &["github", "gh_token", "gh-token"],
        value: HEX40,
    },
    Contextual {
        id: "gitlab-legacy",
        service: "GitLab (legacy token)",
        keywords: &["gitlab"],
        value: r"[A-Za-z0-9_\-]{20}",
    },
    Contextual {
        id: "azure-search-key",
        service: "Azure Cognitive Services",
        keywords: &["azure", "cognitive", "ocp-apim"],
        value: r"[a-f0-9]{32}|[A-Za-z0-9]{84}",
    },
    Contextual {
        id: "azure-functions-key",
        service: "Azure Functions",
        keywords: &["x-functions-key", "function_key", "functions_key"],
        value: r"[A-Za-z0-9_\-]{54}==",
    },
    Contextual {
        id: "gcp-key",
        service: "Google Cloud",
        keywords: &["gcp", "gcloud", "google"],
        value: r"[A-Za-z0-9_\-]{39}",
    },
    Contextual {
        id: "newrelic-legacy",
        service: "New Relic",
        keywords: &["newrelic", "new_relic", "nr_license"],
        value: r"[a-f0-9]{36}NRAL|[a-f0-9]{40}|[a-z0-9]{64}",
    },
    Contextual { id: "plaid-secret", service: "Plaid", keywords: &["plaid"], value: r"[a-f0-9]{30}|[a-f0-9]{24}" },
    Contextual {
        id: "paypal-secret",
        service: "PayPal / Braintree",
        keywords: &["paypal", "braintree"],
        value: r"access_token\$production\$[a-z0-9]{16}\$[a-f0-9]{32}|[A-Za-z0-9_\-]{80}|[a-f0-9]{32}",
    },
    Contextual {
        id: "razorpay-secret",
        service: "Razorpay",
        keywords: &["razorpay"],
        value: r"rzp_(?:live|test)_[A-Za-z0-9]{14}|[A-Za-z0-9]{24}",
    },
    Contextual {
        id: "paystack-secret",
        service: "Paystack",
        keywords: &["paystack"],
        value: r"sk_(?:live|test)_[a-f0-9]{40}",
    },
    Contextual { id: "mollie-key", service: "Mollie", keywords: &["mollie"], value: r"(?:live|test)_[A-Za-z0-9]{30}" },
    Contextual { id: "adyen-key", service: "Adyen", keywords: &["adyen"], value: r"AQE[A-Za-z0-9+/=_\-]{60,}" },
    Contextual { id: "klaviyo-key", service: "Klaviyo", keywords: &["klaviyo"], value: r"pk_[a-f0-9]{34}" },
    Contextual { id: "openweather-key", service: "OpenWeather", keywords: &["openweather", "owm"], value: HEX32 },
    Contextual {
        id: "pagerduty-legacy",
        service: "PagerDuty",
        keywords: &["pagerduty"],
        value: r"[A-Za-z0-9_+\-]{20}",
    },
    Contextual { id: "rollbar-token", service: "Rollbar", keywords: &["rollbar"], value: HEX32 },
    Contextual {
        id: "rabbitmq-secret",
        service: "RabbitMQ",
        keywords: &["rabbitmq", "amqp"],
        value: r"[A-Za-z0-9_\-]{24,64}",
    },
    Contextual {
        id: "auth-jwt-secret",
        service: "JWT signing secret",
        keywords: &["jwt_secret", "jwt-secret", "jwtsecret", "jwt_key", "signing_key"],
        value: r"[A-Za-z0-9_\-+/=!@#%^&*]{16,128}",
    },
];

pub const UUID: &str = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
pub const HEX32: &str = r"[a-fA-F0-9]{32}";
pub const HEX40: &str = r"[a-fA-F0-9]{40}";
