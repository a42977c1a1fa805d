using System.Text.RegularExpressions;

namespace AspireLlm.Orchestration.Redaction;

// Every pattern is either bounded or built from runs that end at a character they cannot contain, so a
// failed attempt costs a fixed amount of backtracking per start position and hostile input stays linear.
// Start positions are pinned with look-behinds so a long run is tried once, not once per character.
// The timeout is only a backstop for whatever that reasoning missed.
public static partial class PiiRedactor
{
    private const int MatchTimeoutMilliseconds = 1000;

    private const RegexOptions Options =
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture | RegexOptions.IgnorePatternWhitespace;

    // Vendor formats with a fixed, recognisable prefix: cheap to spot and almost never a false positive.
    // Thresholds leave short look-alikes alone, e.g. the 14-character public prefix of our own sk-llm- keys.
    [GeneratedRegex("""
        (?<![A-Za-z0-9_-])
        (?:
            sk-[A-Za-z0-9_-]{20,}
          | (?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])
          | gh[pousr]_[A-Za-z0-9]{20,}
          | github_pat_[A-Za-z0-9_]{20,}
          | xox[abpr]-[A-Za-z0-9-]{10,}
          | AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])
          | eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*
        )
        """, Options, MatchTimeoutMilliseconds)]
    private static partial Regex VendorTokenRegex();

    // Only the token is captured: the scheme word stays so a reader still knows what kind of credential it was.
    [GeneratedRegex("""
        (?<![A-Za-z0-9])(?i:bearer|basic)[\x20\t]+(?<v>[A-Za-z0-9._~+/=-]+)
        """, Options, MatchTimeoutMilliseconds)]
    private static partial Regex AuthorizationValueRegex();

    // Query strings, connection strings, env files, YAML and JSON all spell "name = value" slightly differently;
    // the name must end in a credential word so max_tokens or password_hint are left alone. The name is kept.
    // A quoted value may be unterminated (truncated logs), so the closing quote is optional.
    [GeneratedRegex("""
        (?<![A-Za-z0-9_.-])
        [A-Za-z0-9_.-]{0,64}?
        (?i:password|passwd|passphrase|pwd|secret|token|credentials?|(?:api|access|secret|private|signing|client)[_-]?key)
        ["']?[\x20\t]{0,3}[:=][\x20\t]{0,3}
        (?:
            "(?<v>[^"\r\n]{1,512})"?
          | '(?<v>[^'\r\n]{1,512})'?
          | (?<v>[^\s"'&;,]{1,512})
        )
        """, Options, MatchTimeoutMilliseconds)]
    private static partial Regex CredentialAssignmentRegex();

    // Labels end in a dot and the TLD is letters only, so "user@localhost" and "v@1.2.3" are not addresses.
    // An apostrophe is allowed inside the local part (o'brien) but not first, where it is a quote.
    [GeneratedRegex("""
        (?<![A-Za-z0-9._%+-])
        [A-Za-z0-9._%+-][A-Za-z0-9._%+'-]{0,63}
        @(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}
        (?![A-Za-z0-9-])
        """, Options, MatchTimeoutMilliseconds)]
    private static partial Regex EmailRegex();

    // Upper case only, as printed and transmitted; the candidate is confirmed by mod-97 in code.
    [GeneratedRegex("""
        (?<![A-Za-z0-9])
        [A-Z]{2}[0-9]{2}(?:\x20?[A-Z0-9]{4}){2,7}(?:\x20?[A-Z0-9]{1,3})?
        (?![A-Za-z0-9])
        """, Options, MatchTimeoutMilliseconds)]
    private static partial Regex IbanCandidateRegex();

    // A maximal run of digit groups; which part of it is a card is decided in code, where shape and Luhn
    // can be tried on sub-runs (a card followed by a CVV or a year is still a card). A run may not start
    // as the fraction of a decimal number.
    [GeneratedRegex("""
        (?<!\w)(?<![0-9][.,])
        [0-9]+(?:[\x20-][0-9]+)*
        """, Options, MatchTimeoutMilliseconds)]
    private static partial Regex DigitRunRegex();

    // A dot before or after means a longer dotted number (a version such as 1.2.3.4.5), not an address.
    // A colon after is a port and does not disqualify.
    [GeneratedRegex("""
        (?<!\w)(?<![0-9]\.)
        (?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])
        (?!\w)(?!\.[0-9])
        """, Options, MatchTimeoutMilliseconds)]
    private static partial Regex IPv4Regex();

    // Only the shape is matched here (at least two colons, hex groups, optional dotted-quad tail); group
    // counts and the single "::" are checked in code, which is what rejects times like 10:45:00 and MACs.
    [GeneratedRegex("""
        (?<![\w:.])
        (?:[0-9A-Fa-f]{0,4}:){2,7}
        (?:
            (?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])
          | [0-9A-Fa-f]{1,4}
        )?
        (?![\w:])(?!\.\w)
        """, Options, MatchTimeoutMilliseconds)]
    private static partial Regex IPv6CandidateRegex();

    // Separators are mandatory between national groups: an unformatted digit string is far more often an
    // id, a timestamp or an amount than a phone number. Group lengths are bounded and each group must be
    // followed by a separator or the end, so a failed attempt cannot re-split the digits combinatorially.
    // Neighbouring dotted or dashed digits (dates, versions, UUIDs) disqualify the candidate.
    [GeneratedRegex("""
        (?<![\w+])(?<!\w[.,/-])
        (?:
            (?:\+|00)[1-9][0-9]{0,2}
            (?:[\x20.-]?\([0-9]{1,4}\)[\x20.-]?[0-9]{1,8} | [\x20.-][0-9]{1,8})
            (?:[\x20.-][0-9]{1,8}){1,5}
          | \+[1-9][0-9]{6,14}
          | \([0-9]{2,5}\)[\x20.-]?[0-9]{3,4}[\x20.-]?[0-9]{3,4}
          | [0-9]{3}(?<s>[\x20.-])[0-9]{3}\k<s>[0-9]{4}
          | 0[0-9]{1,4}[\x20-][0-9]{3,4}[\x20-]?[0-9]{3,4}
          | 0[1-9](?<f>[\x20.-])[0-9]{2}\k<f>[0-9]{2}\k<f>[0-9]{2}\k<f>[0-9]{2}
        )
        (?!\w)(?![.,/-][0-9])
        """, Options, MatchTimeoutMilliseconds)]
    private static partial Regex PhoneRegex();
}
