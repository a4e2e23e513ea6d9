/// Secrets in URL query strings and well-known token formats: the `url_query_secret` and
/// `api_token` detectors. Both are reached from anchors the main loop already stops at (`=`) or
/// from the token prefixes of its SIMD prefilter, so lines without them pay nothing more.
extension RedactionScanner {
    // MARK: - url_query_secret

    /// Parameter names whose value is a credential, lowercase, with `_`, `-` and `.` removed
    /// (so `access_token`, `access-token`, `accessToken` and `AccessToken` are one entry).
    /// Exact names only: `page_token`, `next_token`, `token_type`, `trace`, `id`, `page` are
    /// no secrets, and a suffix rule (`*token`) would take the pagination ones.
    static let secretParameterNames: [StaticString] = [
        "token", "accesstoken", "refreshtoken", "idtoken", "authtoken", "sessiontoken", "securitytoken",
        "privatetoken", "apitoken", "apikey", "key", "accesskey", "secretkey", "privatekey", "secret",
        "clientsecret", "appsecret", "password", "passwd", "pwd", "pass", "passphrase", "sig", "signature",
        "auth", "xamzsignature", "xamzsecuritytoken", "xgoogsignature",
    ]

    /// The `=` at `p` ends a query parameter name that follows `?`, `&`, `#` (OAuth's implicit
    /// flow puts `access_token` in the fragment), `&amp;` (HTML) or `\u0026` (a JSON-escaped
    /// `&`, as .NET's encoder writes it, at any depth of escaping) and names a secret: the value
    /// is masked, up to `&`, `#`, whitespace, a quote, a backslash (a JSON escape ends the URL's
    /// string or the parameter), `<`, `>` or a backtick.
    mutating func querySecret(_ p: Int) -> Int? {
        var s = p
        while s > 0 && p - s <= 32 && Self.isParameterNameByte(base[s - 1]) { s -= 1 }
        guard s < p, s > 0 else { return nil }
        var nameStart = s
        switch base[s - 1] {
        case 0x3F, 0x26, 0x23:  // ? & #
            break
        case 0x3B:  // ;
            guard hasLower("&amp", at: s - 5) else { return nil }
        case 0x5C:  // \
            guard p - s > 5, hasLower("u0026", at: s) else { return nil }
            nameStart = s + 5
        default:
            return nil
        }
        guard isSecretParameterName(nameStart, p) else { return nil }
        var e = p + 1
        while e < count {
            let b = base[e]
            if b == 0x26 || b == 0x23 || b <= 0x20 || b == 0x22 || b == 0x27 || b == 0x5C || b == 0x3C || b == 0x3E || b == 0x60 { break }
            e += 1
        }
        guard e > p + 1 else { return nil }
        add(RedactionKind.urlQuerySecret, p + 1, e)
        return e
    }

    @inline(__always) static func isParameterNameByte(_ b: UInt8) -> Bool {
        RedactionBytes.isWord(b) || b == 0x2D || b == 0x2E
    }

    /// Whether the name in `s..<e` is one of ``secretParameterNames`` once lowercased and
    /// stripped of `_`, `-` and `.`.
    func isSecretParameterName(_ s: Int, _ e: Int) -> Bool {
        var length = 0
        for k in s..<e where RedactionBytes.isAlnum(base[k]) { length += 1 }
        for name in Self.secretParameterNames where name.utf8CodeUnitCount == length {
            let w = name.utf8Start
            var i = 0
            var k = s
            var same = true
            while k < e {
                let b = base[k]
                k += 1
                guard RedactionBytes.isAlnum(b) else { continue }
                if b | 0x20 != w[i] { same = false; break }  // digits already have bit 0x20 set
                i += 1
            }
            if same { return true }
        }
        return false
    }

    // MARK: - api_token

    /// Well-known token formats, wherever they stand (not only after `Bearer`), each a prefix and
    /// a minimum body that make a false hit unlikely:
    /// - GitHub: `ghp_` `gho_` `ghu_` `ghs_` `ghr_` + 30 or more letters and digits (36 today);
    ///   `github_pat_` + 40 or more letters, digits and `_` (82 today).
    /// - Stripe: `sk_live_` `rk_live_` `sk_test_` `rk_test_` + 20 or more letters and digits.
    /// - Slack: `xoxb-` `xoxp-` `xoxa-` `xoxr-` `xoxs-` `xapp-` + 10 or more of letters, digits, `-`.
    /// - Google OAuth access tokens: `ya29.` + 20 or more of base64url and `.`.
    ///
    /// The whole token is replaced, prefix included.
    mutating func apiToken(_ p: Int) -> Int {
        guard startsToken(p) else { return p + 1 }
        let b1 = byte(p + 1), b2 = byte(p + 2), b3 = byte(p + 3)
        // Body: where it starts, its shortest length, and its alphabet (0: letters and digits;
        // 1: and `_`; 2: and `-`; 3: base64url and `.`).
        let spec: (body: Int, minimum: Int, alphabet: Int)
        switch base[p] {
        case 0x67:  // g
            if b1 == 0x68 && b3 == 0x5F && (b2 == 0x70 || b2 == 0x6F || b2 == 0x75 || b2 == 0x73 || b2 == 0x72) {
                spec = (p + 4, 30, 0)
            } else if has("github_pat_", at: p) {
                spec = (p + 11, 40, 1)
            } else {
                return p + 1
            }
        case 0x73, 0x72:  // s r
            guard b1 == 0x6B && b2 == 0x5F && (has("live_", at: p + 3) || has("test_", at: p + 3)) else { return p + 1 }
            spec = (p + 8, 20, 0)
        case 0x78:  // x
            let slack = b1 == 0x6F && b2 == 0x78 && (b3 == 0x62 || b3 == 0x70 || b3 == 0x61 || b3 == 0x72 || b3 == 0x73)
            guard (slack || has("xapp", at: p)) && byte(p + 4) == 0x2D else { return p + 1 }
            spec = (p + 5, 10, 2)
        default:  // y
            guard has("ya29.", at: p) else { return p + 1 }
            spec = (p + 5, 20, 3)
        }
        let (body, minimum, alphabet) = spec
        var q = body
        while q < count {
            let b = base[q]
            let inAlphabet: Bool
            switch alphabet {
            case 0: inAlphabet = RedactionBytes.isAlnum(b)
            case 1: inAlphabet = RedactionBytes.isWord(b)
            case 2: inAlphabet = RedactionBytes.isAlnum(b) || b == 0x2D
            default: inAlphabet = RedactionBytes.isBase64URL(b) || b == 0x2E
            }
            guard inAlphabet else { break }
            q += 1
        }
        // A dash or dot after the token is punctuation (`token xoxb-...-abc.`), not part of it.
        while q > body && (base[q - 1] == 0x2D || base[q - 1] == 0x2E) { q -= 1 }
        guard q - body >= minimum, endsToken(q) else { return p + 1 }
        add(RedactionKind.apiToken, p, q)
        return q
    }
}
