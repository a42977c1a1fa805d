using System.Buffers;

namespace AspireLlm.Orchestration.Redaction;

/// <summary>
/// The arithmetic that turns "looks like" into "is": checksums and address grammar that a regex
/// cannot express. Separators (spaces, dashes) inside a candidate are skipped, not rejected.
/// </summary>
internal static class PiiChecks
{
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>Luhn (mod 10) over the digits of <paramref name="candidate"/>.</summary>
    public static bool PassesLuhn(ReadOnlySpan<char> candidate)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = candidate.Length - 1; i >= 0; i--)
        {
            var c = candidate[i];
            if (!char.IsAsciiDigit(c))
            {
                continue;
            }

            var digit = c - '0';
            if (doubleIt)
            {
                digit *= 2;
                if (digit > 9)
                {
                    digit -= 9;
                }
            }

            sum += digit;
            doubleIt = !doubleIt;
        }

        return sum % 10 == 0;
    }

    /// <summary>
    /// ISO 13616: the first four characters moved to the end, letters read as 10..35, the whole number
    /// mod 97 must be 1. Computed digit by digit so no big integer is ever built.
    /// </summary>
    public static bool IsValidIban(ReadOnlySpan<char> candidate)
    {
        var length = 0;
        foreach (var c in candidate)
        {
            if (c != ' ')
            {
                length++;
            }
        }

        if (length is < 15 or > 34 || candidate.Length < 4)
        {
            return false;
        }

        var remainder = Mod97(0, candidate[4..]);
        return remainder >= 0 && Mod97(remainder, candidate[..4]) == 1;
    }

    private static int Mod97(int remainder, ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            if (char.IsAsciiDigit(c))
            {
                remainder = ((remainder * 10) + (c - '0')) % 97;
            }
            else if (char.IsAsciiLetterUpper(c))
            {
                remainder = ((remainder * 100) + (c - 'A' + 10)) % 97;
            }
            else if (c != ' ')
            {
                return -1;
            }
        }

        return remainder;
    }

    /// <summary>
    /// RFC 4291 text form: eight hex groups, or fewer around exactly one "::"; a trailing dotted quad
    /// stands for the last two groups. A candidate with no hex digit at all ("::" on its own) is refused:
    /// in prose it is punctuation far more often than the unspecified address.
    /// </summary>
    public static bool IsValidIPv6(ReadOnlySpan<char> candidate)
    {
        var groupsAvailable = 8;
        var lastColon = candidate.LastIndexOf(':');
        if (lastColon < 0)
        {
            return false;
        }

        if (candidate[(lastColon + 1)..].Contains('.'))
        {
            // The dotted quad itself was validated by the pattern; only its place in the grammar matters here.
            groupsAvailable = 6;
            var endsWithDoubleColon = lastColon > 0 && candidate[lastColon - 1] == ':';
            candidate = endsWithDoubleColon ? candidate[..(lastColon + 1)] : candidate[..lastColon];
        }

        var doubleColon = candidate.IndexOf("::", StringComparison.Ordinal);
        if (doubleColon < 0)
        {
            return CountGroups(candidate) == groupsAvailable;
        }

        if (candidate[(doubleColon + 1)..].Contains("::", StringComparison.Ordinal))
        {
            return false;
        }

        var left = CountGroups(candidate[..doubleColon]);
        var right = CountGroups(candidate[(doubleColon + 2)..]);
        if (left < 0 || right < 0 || left + right > groupsAvailable - 1)
        {
            return false;
        }

        return left + right > 0 || groupsAvailable == 6;
    }

    /// <summary>Number of colon-separated groups of 1..4 hex digits, 0 for empty, -1 if malformed.</summary>
    private static int CountGroups(ReadOnlySpan<char> part)
    {
        if (part.IsEmpty)
        {
            return 0;
        }

        var groups = 0;
        foreach (var range in part.Split(':'))
        {
            var group = part[range];
            if (group.Length is 0 or > 4 || group.ContainsAnyExcept(HexDigits))
            {
                return -1;
            }

            groups++;
        }

        return groups;
    }

}
