#!/usr/bin/env python3
"""Writes the public secrets benchmark's sample files (fake values, fixed seed).

Every token below is random text in a provider's documented shape; none is a
real credential. Rerun to regenerate: python3 generate.py
"""
import random, string, base64, json, zlib

R = random.Random(12)
A = string.ascii_letters + string.digits
LO = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
def r(cs, n): return "".join(R.choice(cs) for _ in range(n))
def uuid(): return f"{r(HEX,8)}-{r(HEX,4)}-4{r(HEX,3)}-a{r(HEX,3)}-{r(HEX,12)}"
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
def gh(prefix):
    body = r(A, 30); n = zlib.crc32(body.encode()); s = ""
    for _ in range(6): s = B62[n % 62] + s; n //= 62
    return prefix + body + s
def b64(s): return base64.b64encode(s.encode()).decode()
def b64u(s): return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")
def jwt():
    h = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}))
    p = b64u(json.dumps({"sub": r(LO, 10), "iat": R.randint(1600000000, 1700000000), "role": "service"}))
    return f"{h}.{p}.{r(A + '-_', 43)}"

PROVIDERS = [
    lambda: gh("ghp_"), lambda: gh("gho_"), lambda: gh("ghu_"), lambda: gh("ghs_"), lambda: gh("ghr_"),
    lambda: "github_pat_11" + r(A.upper()[:36], 20) + "_" + r(A, 59),
    lambda: "glpat-" + r(A + "_-", 20), lambda: "glptt-" + r(HEX, 40), lambda: "GR1348941" + r(A, 20),
    lambda: "glrt-" + r(A, 20), lambda: "gldt-" + r(A, 20),
    lambda: "npm_" + r(A, 36), lambda: "pypi-AgEIcHlwaS5vcmc" + r(A + "_-", 70), lambda: "rubygems_" + r(HEX, 48),
    lambda: "dckr_pat_" + r(A + "_-", 27), lambda: "sqp_" + r(HEX, 40), lambda: "pul-" + r(HEX, 40),
    lambda: r(LO, 14) + ".atlasv1." + r(A, 67), lambda: "hvs." + r(A, 95), lambda: "dp.pt." + r(A, 43),
    lambda: "lin_api_" + r(A, 40), lambda: "PMAK-" + r(HEX, 24) + "-" + r(HEX, 34), lambda: "CFPAT-" + r(A, 43),
    lambda: "sk_live_" + r(A, 24), lambda: "rk_live_" + r(A, 24), lambda: "sk_test_" + r(A, 24), lambda: "whsec_" + r(A, 32),
    lambda: "shpat_" + r(HEX, 32), lambda: "shpss_" + r(HEX, 32), lambda: "sq0csp-" + r(A, 43), lambda: "EAAA" + r(A, 60),
    lambda: "FLWSECK_TEST-" + r("abcdef0123456789", 32) + "-X", lambda: "duffel_test_" + r(A, 43), lambda: "EZAK" + r(A, 54),
    lambda: "shippo_live_" + r(HEX, 40), lambda: "access-production-" + uuid(),
    lambda: "AKIA" + r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), lambda: "ASIA" + r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
    lambda: "LTAI" + r(A, 20), lambda: "AIza" + r(A + "_-", 35), lambda: "GOCSPX-" + r(A + "_-", 28),
    lambda: "ya29." + r(A + "_-", 60), lambda: r(A, 3) + "8Q~" + r(A + "_~.-", 34),
    lambda: "dop_v1_" + r(HEX, 64), lambda: "dapi" + r(HEX, 32), lambda: "dt0c01." + r(string.ascii_uppercase + string.digits, 24) + "." + r(string.ascii_uppercase + string.digits, 64),
    lambda: "NRAK-" + r(string.ascii_uppercase + string.digits, 27), lambda: "glsa_" + r(A, 32) + "_" + r(HEX, 8),
    lambda: "sntryu_" + r(HEX, 64), lambda: "sha256~" + r(A + "_-", 43), lambda: "pscale_tkn_" + r(A, 43),
    lambda: "sbp_" + r(HEX, 40), lambda: "tskey-auth-" + r(A, 12) + "-" + r(A, 30), lambda: "HRKU-AA" + r(A + "_-", 58),
    lambda: "AGE-SECRET-KEY-1" + r("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58),
    lambda: "sk-proj-" + r(A + "_-", 120), lambda: "sk-" + r(A, 20) + "T3BlbkFJ" + r(A, 20),
    lambda: "sk-ant-api03-" + r(A + "_-", 93) + "AA", lambda: "sk-or-v1-" + r(HEX, 64), lambda: "hf_" + r(string.ascii_letters, 34),
    lambda: "gsk_" + r(A, 52), lambda: "xai-" + r(A, 80), lambda: "pplx-" + r(A, 48), lambda: "r8_" + r(A, 37),
    lambda: "lsv2_pt_" + r(HEX, 32) + "_" + r(HEX, 10), lambda: "pcsk_" + r(A, 70),
    lambda: "xoxb-" + r(string.digits, 12) + "-" + r(string.digits, 13) + "-" + r(A, 24),
    lambda: "xoxp-" + r(string.digits, 12) + "-" + r(string.digits, 12) + "-" + r(string.digits, 13) + "-" + r(HEX, 32),
    lambda: "xapp-1-A" + r(string.ascii_uppercase + string.digits, 10) + "-" + r(string.digits, 13) + "-" + r(HEX, 64),
    lambda: "https://hooks.slack.com/services/T" + r(string.ascii_uppercase + string.digits, 8) + "/B" + r(string.ascii_uppercase + string.digits, 10) + "/" + r(A, 24),
    lambda: "https://discord.com/api/webhooks/" + r(string.digits, 18) + "/" + r(A + "_-", 68),
    lambda: r(string.digits, 10) + ":AA" + r(A + "_-", 33), lambda: "SK" + r(HEX, 32),
    lambda: "SG." + r(A + "_-", 22) + "." + r(A + "_-", 43), lambda: "xkeysib-" + r(HEX, 64) + "-" + r(A, 16),
    lambda: "key-" + r(HEX, 32), lambda: r(HEX, 32) + "-us" + str(R.randint(1, 20)),
    lambda: "sk.eyJ1Ijoi" + r(A, 50) + "." + r(A + "_-", 22), lambda: "cloudinary://" + r(string.digits, 15) + ":" + r(A + "_-", 27) + "@demo-cloud",
    lambda: "p8e-" + r(A, 32), lambda: "eyJrIjoi" + r(A, 72), lambda: "glc_" + r(A, 60), lambda: "fo1_" + r(A + "_-", 43),
    lambda: "ATATT3" + r(A + "_-", 186), lambda: "ntn_" + r(string.digits, 11) + r(A, 35), lambda: "figd_" + r(A + "_-", 40),
    lambda: "rnd_" + r(A, 32), lambda: "NRII-" + r(A, 32), lambda: "oy2" + r(LO, 43), lambda: "API-" + r(string.ascii_uppercase + string.digits, 26),
    lambda: "pat-na1-" + uuid(), lambda: "_gitlab_session=" + r(LO, 32), lambda: "4b1d" + r(A, 38), lambda: "sm_pat_" + r(A, 16),
    lambda: "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t" + r(A, 60), lambda: "s-s4t2ud-" + r(HEX, 64), lambda: "sgp_" + r(HEX, 16) + "_" + r(HEX, 40), lambda: "bkua_" + r(HEX, 40),
]
CONTEXT = [("heroku", uuid), ("algolia", lambda: r(HEX, 32)), ("datadog", lambda: r(HEX, 32)), ("twilio", lambda: r(HEX, 32)),
    ("okta", lambda: "00" + r(A, 40)), ("netlify", lambda: r(A, 43)), ("snyk", uuid), ("mistral", lambda: r(A, 32)),
    ("cohere", lambda: r(A, 40)), ("bugsnag", lambda: r(HEX, 32)), ("opsgenie", uuid), ("cloudflare", lambda: r(A + "_-", 40)),
    ("sentry", lambda: r(HEX, 64)), ("zendesk", lambda: r(A, 40)), ("fastly", lambda: r(A, 32)), ("intercom", lambda: r(A, 60)),
    ("splunk", uuid), ("travis", lambda: r(A, 22)), ("twitch", lambda: r(LO, 30)), ("mattermost", lambda: r(LO, 26))]

SYNTAX = [
    "{v}", "token: {v}", "\"{v}\"", "  - {v}", "Authorization header uses {v} today", "value={v}",
    "const client = new Client(\"{v}\");", "{{\"credentials\": \"{v}\"}}", "curl https://api.example.net?key={v}",
]
out = {k: [] for k in ["provider", "private-key", "jwt", "http-credential", "kubernetes", "assignment"]}
def pos(f, s): out[f].append("+ " + f + " " + s.replace("\n", "⏎"))
def neg(f, s): out[f].append("- " + f + " " + s.replace("\n", "⏎"))

for gen in PROVIDERS:
    for tpl in R.sample(SYNTAX, 3):
        pos("provider", tpl.format(v=gen()))
for kw, gen in CONTEXT:
    for tpl in ["{K}_API_KEY={v}", "{k}_token: \"{v}\"", "\"{k}Secret\": \"{v}\"", "{k}.api.key = {v}"]:
        pos("provider", tpl.format(K=kw.upper(), k=kw, v=gen()))

for s in ["GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "token: ghp_************************************",
          "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX", "SLACK_BOT_TOKEN=xoxb-xxx",
          "slack: xoxb-your-token-here", "STRIPE_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "sk_test_1234567890abcdefghij",
          "publishableKey: pk_live_" + r(A, 24), "NEXT_PUBLIC_MAPBOX=pk.eyJ1Ijoi" + r(A, 40) + "." + r(A, 22),
          "OPENAI_API_KEY=sk-...", "OPENAI_API_KEY=sk-your-key-here", "ANTHROPIC_API_KEY=sk-ant-api03-xxxxxxxx",
          "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "npm_TOKEN placeholder: npm_<token>", "glpat-xxxxxxxxxxxxxxxxxxxx",
          "Tokens look like `ghp_` followed by 36 characters.", "The prefix sk_live_ marks a live Stripe key.",
          "AIzaSy" + "X" * 33, "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "twilio_sid = AC" + r(HEX, 32),
          "heroku_app_id = " + uuid(), "datadog_site = datadoghq.eu", "algolia_app_id = " + r(string.ascii_uppercase, 10),
          "okta_domain = dev-123456.okta.com", "sentry_dsn_public = https://" + r(HEX, 32) + "@o1.ingest.sentry.io/1",
          "key: " + r(HEX, 32) + "  # an md5 checksum, not a key", "sha256: " + r(HEX, 64)]:
    neg("provider", s)

# Private keys with bodies, in files, YAML and JSON (escaped newlines).
for kind in ["RSA ", "EC ", "OPENSSH ", "", "DSA ", "ENCRYPTED "]:
    body = "\n".join(r(A + "+/", 64) for _ in range(4))
    pos("private-key", f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----")
    pos("private-key", f"key: |\n  -----BEGIN {kind}PRIVATE KEY-----\n  {r(A + '+/', 64)}\n  -----END {kind}PRIVATE KEY-----")
    pos("private-key", '{"private_key": "-----BEGIN ' + kind + 'PRIVATE KEY-----\\n' + r(A + "+/", 64) + '\\n' + r(A, 40) + '\\n-----END ' + kind + 'PRIVATE KEY-----\\n"}')
pos("private-key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBF" + r(A + "+/", 58) + "\n" + r(A, 64) + "\n-----END PGP PRIVATE KEY BLOCK-----")
pos("private-key", "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nComment: deploy\nPublic-Lines: 1\n" + r(A + "+/", 64) + "\nPrivate-Lines: 1\n" + r(A + "+/", 64))
for kind in ["RSA ", "OPENSSH ", "EC "]:
    neg("private-key", f"-----BEGIN {kind}PRIVATE KEY-----")
    neg("private-key", f"-----BEGIN {kind}PRIVATE KEY-----\n-----END {kind}PRIVATE KEY-----")
    neg("private-key", f"-----BEGIN {kind}PRIVATE KEY-----\n...\n-----END {kind}PRIVATE KEY-----")
    neg("private-key", f"-----BEGIN {kind}PRIVATE KEY-----\n<your key here>\n-----END {kind}PRIVATE KEY-----")
neg("private-key", "-----BEGIN PUBLIC KEY-----\n" + r(A + "+/", 64) + "\n-----END PUBLIC KEY-----")
neg("private-key", "-----BEGIN CERTIFICATE-----\nMIID" + r(A + "+/", 60) + "\n-----END CERTIFICATE-----")
neg("private-key", "if line.startswith('-----BEGIN RSA PRIVATE KEY-----'):")
neg("private-key", "pem = b\"-----BEGIN PRIVATE KEY-----\\n\" + body + b\"\\n-----END PRIVATE KEY-----\"")

for tpl in ["{v}", "Authorization: Bearer {v}", "token = \"{v}\"", "id_token: {v}"]:
    for _ in range(3):
        pos("jwt", tpl.format(v=jwt()))
for _ in range(4):
    pos("jwt", "session=" + b64(jwt()))
    pos("jwt", "\"auth\": \"" + b64(jwt()) + "\"")
anon = b64u('{"alg":"HS256","typ":"JWT"}') + "." + b64u('{"iss":"supabase","role":"anon","iat":1700000000}') + "." + r(A, 43)
neg("jwt", "SUPABASE_ANON_KEY=" + anon)
neg("jwt", "const parts = token.split('.'); // eyJhbGciOi... header")
neg("jwt", "eyJhbGciOiJIUzI1NiJ9 is the header of the example")
neg("jwt", "jwt = jwt.encode(payload, key, algorithm='HS256')")

for _ in range(4):
    pw = r(A, 6) + R.choice("!#%^") + r(A, 5)
    pos("http-credential", f"DATABASE_URL=postgres://app:{pw}@db.internal:5432/app")
    pos("http-credential", f"mongodb+srv://admin:{r(A, 14)}@cluster0.abcde.mongodb.net/prod")
    pos("http-credential", f"curl -u deploy:{r(A, 12)} https://ci.internal/api")
    pos("http-credential", f"curl --user 'ops:{r(A, 10)}' https://registry.internal")
    pos("http-credential", f"curl -H \"Authorization: Bearer {r(A, 32)}\" https://api.internal/v1")
    pos("http-credential", f"curl -H 'Authorization: Basic {b64('deploy:' + r(A, 12))}' https://api.internal")
    pos("http-credential", f"headers = {{\"X-API-Key\": \"{r(A, 32)}\"}}")
    pos("http-credential", f"redis://:{r(A, 16)}@cache.internal:6379/0")
    pos("http-credential", f"curl --header 'X-Api-Token: {r(A, 32)}' https://api.internal/v2")
    pos("http-credential", f"curl -H \"PRIVATE-TOKEN: {r(A, 20)}\" https://gitlab.internal/api/v4/projects")
for s in ["DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app", "postgres://user:password@localhost/db",
          "curl -u $USER:$TOKEN https://api", "curl -u user:pass https://example.com", "curl -H \"Authorization: Bearer $TOKEN\" https://api",
          "curl -H 'Authorization: Bearer <token>' https://api", "https://github.com/org/repo.git", "git@github.com:org/repo.git",
          "amqp://guest:guest@localhost:5672/", "Authorization: Bearer ${ACCESS_TOKEN}", "headers['Authorization'] = f'Bearer {token}'",
          "mysql://root:@localhost/test", "ftp://anonymous:anonymous@ftp.example.org", "curl -u \"$CI_USER:$CI_PASS\" https://ci",
          "http://user:<password>@proxy:3128", "curl -H 'X-Api-Token: $API_TOKEN' https://api", "curl -H \"Content-Type: application/json\" https://api", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "echo -n user:pass | base64"]:
    neg("http-credential", s)

for _ in range(4):
    pos("kubernetes", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  password: " + b64(r(A, 16)) + "\n  api-token: " + b64(r(A, 24)))
    pos("kubernetes", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  DB_PASSWORD: " + r(A, 14))
neg("kubernetes", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  username: " + b64("admin") + "\n  password: " + b64("${PASSWORD}"))
neg("kubernetes", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  LOG_LEVEL: debug\n  region: eu-west-1")
neg("kubernetes", "kind: Secret\nstringData:\n  password: <set-me>")
neg("kubernetes", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db\n        key: password")

V = lambda: r(A, 10) + R.choice("!%^+") + r(A, 9)
ASSIGN = [
    "DB_PASSWORD={v}", "export API_TOKEN={v}", "api_key: {v}", "api_key: \"{v}\"", "\"client_secret\": \"{v}\"",
    "\"config\": \"{{\\\"password\\\": \\\"{v}\\\"}}\"", "secret_key = \"{v}\"", "[database]\npassword = {v}", "db.password={v}",
    "spring.datasource.password: {v}", "<password>{v}</password>", "<config>\n  <apiKey>\n    {v}\n  </apiKey>\n</config>",
    "<add key=\"StorageAccountKey\" value=\"{v}\" />", "ENV API_SECRET={v}", "ENV API_SECRET {v}", "ARG NPM_TOKEN={v}",
    "REGISTRY_PASSWORD ?= {v}", "DEPLOY_TOKEN := {v}", "admin_password = \"{v}\"", "var apiKey string = \"{v}\"",
    "const authToken = `{v}`", "apiToken := \"{v}\"", "private static final String SECRET_KEY = \"{v}\";",
    "val clientSecret: String = \"{v}\"", "string connectionPassword = \"{v}\";", "$db_password = '{v}';", "$secret .= '{v}';",
    "System.setProperty(\"aws.secretKey\", \"{v}\");", "define('AUTH_KEY', '{v}');", "PASSWORD = '{v}'", "api_key = \"{v}\"",
    "config.api_key = '{v}'", ":password => \"{v}\"", "password: '{v}'", "const API_KEY = \"{v}\";", "let apiKey = '{v}'",
    "process.env.SECRET = \"{v}\"", "const SECRET: &str = \"{v}\";", "let token = \"{v}\"", "os.environ[\"API_TOKEN\"] = \"{v}\"",
    "HEROKU_KEY={v}", "mailerSecret = \"{v}\"", "--password={v}", "mysql -u root --password {v} app",
    "settings[\"secret_key\"] = \"{v}\"", "<resources>\n  <string name=\"api_key\">{v}</string>\n</resources>",
    "env:\n  - name: DB_PASSWORD\n    value: {v}", "variable \"admin_password\" {{\n  type    = string\n  default = \"{v}\"\n}}",
    "- ParameterKey: ApiToken\n  ParameterValue: {v}", "<dict>\n  <key>password</key>\n  <string>{v}</string>\n</dict>", "<entry key=\"db.password\">{v}</entry>", "credentials = \"{v}\"", "set PASSWORD={v}", "password = \"{w}\"", "pwd: {w}",
]
for tpl in ASSIGN:
    for _ in range(2):
        pos("assignment", tpl.format(v=V(), w=r(string.ascii_lowercase, 5) + str(R.randint(10, 99)) + R.choice("!#$")))
NEG = [
    "password = os.environ[\"DB_PASSWORD\"]", "api_key = os.getenv('API_KEY')", "token: ${{ secrets.GITHUB_TOKEN }}",
    "password: ${DB_PASSWORD}", "secret = \"<your-secret>\"", "api_key = \"YOUR_API_KEY\"", "token = \"changeme\"",
    "PASSWORD=", "password: \"\"", "password = None", "api_key = config.api_key", "token = get_token()",
    "access_token_url='https://github.com/login/oauth/access_token'", "credentialsId: '" + uuid() + "'",
    "token_type: bearer", "password_min_length: 12", "secret_name: prod/db/password", "key_id = \"" + r(HEX, 16) + "\"",
    "primary_key: user_id", "sort_key = \"created_at\"", "cache_key = f\"user:{uid}\"", "public_key: " + r(A, 40),
    "publishable_key = \"pk_live_" + r(A, 24) + "\"", "STRIPE_PUBLISHABLE_KEY=pk_test_" + r(A, 24),
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "token = ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "SLACK_TOKEN=xoxb-xxx", "password = \"11111111\"",
    "api_key = \"00000000-0000-0000-0000-000000000000\"", "secret: '****************'", "password = \"password\"",
    "const token = localStorage.getItem('token');", "token: string;", "password: str", "fn set_password(&mut self, password: String)",
    "if password == confirm_password:", "The API key is sent in the X-Api-Key header.", "| token | a bearer token for the API |",
    "password_reset_token_expiry: 3600", "TOKEN_ENDPOINT=https://login.example.com/oauth2/token", "secret_file: /run/secrets/db",
    "tls_key: /etc/ssl/private/server.key", "keyboard_layout = \"en-us\"", "monkey = \"banana\"", "auth: true", "auth_method: oauth2",
    "api_key_header = \"X-Api-Key\"", "<string name=\"app_name\">My App</string>", "<key>token_url</key>\n<string>https://auth.example.com/token</string>",
    "<string name=\"password_hint\">At least 12 characters</string>", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: {name: db, key: password}",
    "variable \"db_password\" {\n  type      = string\n  sensitive = true\n}", "- name: API_TOKEN\n  value: ${{ secrets.API_TOKEN }}", "<password></password>", "<add key=\"ApiKey\" value=\"\" />", "ENV API_KEY=\"\"",
    "ARG NPM_TOKEN", "REGISTRY_PASSWORD ?= $(shell cat .pw)", "var apiKey string = os.Getenv(\"API_KEY\")", "password: !vault |",
    "sessionTimeout = 30", "token_count = 2048", "max_tokens = 4096", "secret = Secret::new(value)", "KEY=value", "key = \"value\"",
    "keys = [\"id\", \"name\"]", "passphrase = prompt()", "credential_helper = osxkeychain", "auth_token = request.headers.get('X-Token')",
    "let token = Token::Ident(name);", "GITHUB_TOKEN: ${{ secrets.GH_TOKEN }}", "db_password: \"{{ vault_db_password }}\"",
    "password = \"%(db_password)s\"", "apiKey: process.env.API_KEY", "this.token = token;", "self.password = password",
    "api_key = \"sk_test_xxxxxxxxxxxxxxxxxxxxxxxx\"", "sha = \"" + r(HEX, 40) + "\"", "commit: " + r(HEX, 40), "id: " + uuid(),
    "request_id = \"" + uuid() + "\"", "integrity: sha512-" + r(A, 86) + "==", "version: 1.2.3", "image: nginx@sha256:" + r(HEX, 64),
    "Use `export API_KEY=...` before running.", "Set GITHUB_TOKEN to a token with repo scope.", "password_hash = bcrypt.hash(pw)",
    "mapbox_token = \"pk.eyJ1Ijoi" + r(A, 40) + "." + r(A, 22) + "\"", "firebase: { projectId: \"demo-app\", appId: \"1:" + r(string.digits, 12) + ":web:" + r(HEX, 22) + "\" }",
]
for s in NEG:
    neg("assignment", s)
for f, lines in out.items():
    with open(f"{f}.txt", "w") as fh:
        fh.write(f"# {f}: '+' must be reported, '-' must not. Generated by generate.py (fake values).\n")
        fh.write("\n".join(lines) + "\n")
