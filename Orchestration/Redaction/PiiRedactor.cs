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

    private static bool AddIbans(string text, ref Findings findings)
    {
        foreach (var match in IbanCandidateRegex().EnumerateMatches(text))
        {
            if (findings.Done)
            {
                return false;
            }

            // The group pattern happily swallows a following four-capital word ("... 7034 THAN"), so on a
            // failed checksum retry without each trailing space-separated group before giving up.
            var candidate = text.AsSpan(match.Index, match.Length);
            while (true)
            {
                if (PiiChecks.IsValidIban(candidate))
                {
                    findings.Add(match.Index, candidate.Length, Kind.Iban);
                    break;
                }

                var lastSpace = candidate.LastIndexOf(' ');
                if (lastSpace < 0)
                {
                    break;
                }

                candidate = candidate[..lastSpace];
            }
        }

        return !findings.Done;
    }

    private static bool AddCards(string text, ref Findings findings)
    {
        foreach (var run in DigitRunRegex().EnumerateMatches(text))
        {
            if (findings.Done)
            {
                return false;
            }

            if (run.Length < 13)
            {
                continue;
            }

            var start = run.Index;
            var end = run.Index + run.Length;

            // Digits glued to a letter or continuing as a decimal fraction belong to a hex id or a float,
            // so the run's last group cannot be part of a card.
            if (end < text.Length && (char.IsLetter(text[end]) || text[end] == '_' ||
                                      (text[end] is '.' or ',' && end + 1 < text.Length && char.IsAsciiDigit(text[end + 1]))))
            {
                end = text.AsSpan(start, run.Length).LastIndexOfAny(' ', '-');
                if (end < 0)
                {
                    continue;
                }

                end += start;
            }

            var position = start;
            while (position < end && !findings.Done)
            {
                var cardEnd = LongestCardAt(text, position, end);
                if (cardEnd > 0)
                {
                    findings.Add(position, cardEnd - position, Kind.Card);
                    position = cardEnd;
                }
                else
                {
                    while (position < end && char.IsAsciiDigit(text[position]))
                    {
                        position++;
                    }
                }

                // Step over the separator to the next group.
                position++;
            }
        }

        return !findings.Done;
    }

    /// <summary>
    /// End of the longest Luhn-valid card that starts at <paramref name="start"/>, or -1. Accepted shapes:
    /// 13-19 bare digits; groups of four with one shorter last group (4-4-4-4, 4-4-4-4-3, 4-4-4-1);
    /// 4-6-5 and 4-6-4 (Amex, Diners). One separator character throughout.
    /// </summary>
    private static int LongestCardAt(string text, int start, int limit)
    {
        Span<int> ends = stackalloc int[8];
        var endCount = 0;
        var digits = 0;
        var groups = 0;
        var firstLength = 0;
        var secondLength = 0;
        var allFoursSoFar = true;
        var separator = '\0';
        var position = start;

        while (position < limit)
        {
            var groupStart = position;
            while (position < limit && char.IsAsciiDigit(text[position]))
            {
                position++;
            }

            var length = position - groupStart;
            groups++;
            digits += length;
            if (digits > 19)
            {
                break;
            }

            if (groups == 1)
            {
                firstLength = length;
            }
            else if (groups == 2)
            {
                secondLength = length;
            }

            var shapeFits = groups == 1
                ? length >= 13
                : firstLength == 4 && ((allFoursSoFar && length <= 4) ||
                                       (groups == 3 && secondLength == 6 && length is 4 or 5));
            if (shapeFits && digits >= 13)
            {
                ends[endCount++] = position;
            }

            var amexPrefix = groups == 2 && firstLength == 4 && length == 6;
            allFoursSoFar &= length == 4;
            if (position >= limit || !(allFoursSoFar || amexPrefix))
            {
                break;
            }

            if (separator == '\0')
            {
                separator = text[position];
            }
            else if (text[position] != separator)
            {
                break;
            }

            position++;
        }

        for (var i = endCount - 1; i >= 0; i--)
        {
            if (PiiChecks.PassesLuhn(text.AsSpan(start, ends[i] - start)))
            {
                return ends[i];
            }
        }

        return -1;
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

    private readonly record struct Finding(int Start, int End, Kind Kind);

    /// <summary>
    /// Accepted findings, sorted and non-overlapping. Allocated on the first finding only, so clean text
    /// never pays for it.
    /// </summary>
    private struct Findings(bool stopAtFirst)
    {
        private List<Finding>? _accepted;

        public readonly bool IsEmpty => _accepted is null;

        public readonly bool Done => stopAtFirst && _accepted is not null;

        /// <summary>Start of the first finding that ends after <paramref name="position"/>, or int.MaxValue.</summary>
        public readonly int NextStartFrom(int position)
        {
            if (_accepted is null)
            {
                return int.MaxValue;
            }

            var index = FirstEndingAfter(position);
            return index < _accepted.Count ? _accepted[index].Start : int.MaxValue;
        }

        private readonly int FirstEndingAfter(int position)
        {
            // Ends are sorted too, because accepted spans never overlap.
            var first = 0;
            var upper = _accepted!.Count;
            while (first < upper)
            {
                var middle = (first + upper) >>> 1;
                if (_accepted[middle].End <= position)
                {
                    first = middle + 1;
                }
                else
                {
                    upper = middle;
                }
            }

            return first;
        }

        public void Add(int start, int length, Kind kind)
        {
            var end = start + length;
            _accepted ??= [];
            var first = FirstEndingAfter(start);
            var last = first;
            while (last < _accepted.Count && _accepted[last].Start < end)
            {
                last++;
            }

            if (first == last)
            {
                _accepted.Insert(first, new Finding(start, end, kind));
                return;
            }

            if (last - first == 1 && _accepted[first].Start <= start && _accepted[first].End >= end)
            {
                return;
            }

            var merged = new Finding(Math.Min(start, _accepted[first].Start), Math.Max(end, _accepted[last - 1].End), kind);
            for (var i = first; i < last; i++)
            {
                if (_accepted[i].Kind < merged.Kind)
                {
                    merged = merged with { Kind = _accepted[i].Kind };
                }
            }

            _accepted.RemoveRange(first, last - first);
            _accepted.Insert(first, merged);
        }

        public readonly string Apply(string text)
        {
            var builder = new StringBuilder(text.Length);
            var position = 0;
            foreach (var finding in _accepted!)
            {
                builder.Append(text, position, finding.Start - position).Append(Placeholders[(int)finding.Kind]);
                position = finding.End;
            }

            return builder.Append(text, position, text.Length - position).ToString();
        }
    }
}
