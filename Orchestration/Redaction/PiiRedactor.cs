using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace AspireLlm.Orchestration.Redaction;

/// <summary>
/// Replaces personal data and credentials in free text with typed placeholders ([EMAIL], [PHONE], [CARD],
/// [IBAN], [IP], [SECRET]) before the text is logged, traced or sent to a model provider.
/// </summary>
/// <remarks>
/// Every detector runs over the original text and findings are resolved by priority, so the order of the
/// detectors, not the order of the characters, decides what a span is: a card or IBAN is never first
/// consumed as a phone number. Where two findings partly overlap they are merged under the stronger
/// label rather than leaving a fragment of the weaker one in clear text.
/// Numbers that carry a checksum (cards, IBANs) are only redacted when the checksum holds; everything
/// else errs towards redacting. Placeholders match no detector, so redaction is idempotent.
/// </remarks>
public static partial class PiiRedactor
{
    /// <summary>
    /// Returned whole when a detector times out: the text could not be proven clean, and logging it
    /// unredacted is the one outcome a redactor must never produce.
    /// </summary>
    public const string Unscannable = "[REDACTED]";

    // Declaration order is priority order: a lower value wins an overlap.
    private enum Kind
    {
        Secret,
        Email,
        Iban,
        Card,
        IP,
        Phone,
    }

    private static readonly string[] Placeholders = ["[SECRET]", "[EMAIL]", "[IBAN]", "[CARD]", "[IP]", "[PHONE]"];

    private static readonly SearchValues<char> AsciiLetters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>
    /// The text with every finding replaced; null becomes the empty string. Text without findings is
    /// returned as the same instance, and nothing here allocates for it, so the common case is cheap.
    /// </summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var findings = new Findings(stopAtFirst: false);
        try
        {
            Scan(text, ref findings);
        }
        catch (RegexMatchTimeoutException)
        {
            return Unscannable;
        }

        return findings.IsEmpty ? text : findings.Apply(text);
    }

    /// <summary>Whether <see cref="Redact"/> would change the text; stops at the first finding.</summary>
    public static bool ContainsPii(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var findings = new Findings(stopAtFirst: true);
        try
        {
            Scan(text, ref findings);
        }
        catch (RegexMatchTimeoutException)
        {
            return true;
        }

        return !findings.IsEmpty;
    }

    // Detectors run in priority order (see Kind); each says whether to go on, which ContainsPii uses to
    // stop after the first one that finds anything.
    private static void Scan(string text, ref Findings findings) =>
        _ = AddAll(VendorTokenRegex(), text, Kind.Secret, ref findings) &&
            AddAuthorizationValues(text, ref findings) &&
            AddCredentialAssignments(text, ref findings) &&
            AddAll(EmailRegex(), text, Kind.Email, ref findings) &&
            AddIbans(text, ref findings) &&
            AddCards(text, ref findings) &&
            AddIPv6(text, ref findings) &&
            AddAll(IPv4Regex(), text, Kind.IP, ref findings) &&
            AddPhones(text, ref findings);

    private static bool AddAll(Regex regex, string text, Kind kind, ref Findings findings)
    {
        foreach (var match in regex.EnumerateMatches(text))
        {
            if (findings.Done)
            {
                return false;
            }

            findings.Add(match.Index, match.Length, kind);
        }

        return !findings.Done;
    }

    private static bool AddAuthorizationValues(string text, ref Findings findings)
    {
        for (var match = AuthorizationValueRegex().Match(text); match.Success && !findings.Done; match = match.NextMatch())
        {
            var token = match.Groups["v"];

            // "the bearer of bad news", "basic authentication": a real credential is not a plain word.
            if (token.Length >= 20 || (token.Length >= 8 && token.ValueSpan.ContainsAnyExcept(AsciiLetters)))
            {
                findings.Add(token.Index, token.Length, Kind.Secret);
            }
        }

        return !findings.Done;
    }

    private static bool AddCredentialAssignments(string text, ref Findings findings)
    {
        for (var match = CredentialAssignmentRegex().Match(text); match.Success && !findings.Done; match = match.NextMatch())
        {
            var value = match.Groups["v"];
            if (!IsPlaceholder(value.ValueSpan))
            {
                findings.Add(value.Index, value.Length, Kind.Secret);
            }
        }

        return !findings.Done;
    }

    private static bool AddIPv6(string text, ref Findings findings)
    {
        foreach (var match in IPv6CandidateRegex().EnumerateMatches(text))
        {
            if (findings.Done)
            {
                return false;
            }

            if (PiiChecks.IsValidIPv6(text.AsSpan(match.Index, match.Length)))
            {
                findings.Add(match.Index, match.Length, Kind.IP);
            }
        }

        return !findings.Done;
    }

    private static bool AddPhones(string text, ref Findings findings)
    {
        foreach (var match in PhoneRegex().EnumerateMatches(text))
        {
            if (findings.Done)
            {
                return false;
            }

            var start = match.Index;
            var limit = findings.NextStartFrom(start);
            if (limit <= start)
            {
                // Starts inside something stronger (a credential value, say): merging keeps no fragment.
                findings.Add(start, match.Length, Kind.Phone);
                continue;
            }

            // The group pattern is greedy, so it can run on into a card or a list of numbers that follows.
            // Keep the longest prefix, cut at a group boundary, that stops before any stronger finding and
            // within E.164's 15 digits; fewer than 7 digits is an extension or a short code, not a person.
            var end = -1;
            var digits = 0;
            var matchEnd = Math.Min(start + match.Length, limit);
            for (var i = start; i < matchEnd; i++)
            {
                if (!char.IsAsciiDigit(text[i]))
                {
                    continue;
                }

                if (++digits > 15)
                {
                    break;
                }

                // Cutting inside "(0)" would leave half a group in clear text, so only separators are cut points.
                if (digits >= 7 && (i + 1 == start + match.Length || text[i + 1] is ' ' or '.' or '-'))
                {
                    end = i + 1;
                }
            }

            if (end > 0)
            {
                findings.Add(start, end - start, Kind.Phone);
            }
        }

        return !findings.Done;
    }

    private static bool IsPlaceholder(ReadOnlySpan<char> value)
    {
        foreach (var placeholder in Placeholders)
        {
            if (value.SequenceEqual(placeholder))
            {
                return true;
            }
        }

        return value.SequenceEqual(Unscannable);
    }
}
