using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace AspireLlm.Orchestration.Redaction;

/// <summary>The detectors for numbers that carry a checksum: IBANs (mod 97) and payment cards (Luhn).</summary>
public static partial class PiiRedactor
{
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
}
