using System.Globalization;
using System.Text.RegularExpressions;

namespace AspireLlm.Orchestration.Caching;

/// <summary>
/// Decides whether two questions that embed close together may share an answer. Embeddings place "can
/// I" and "can't I", "30 days" and "60 days", "enable" and "disable", "Paris" and "Rome" nearly on top of
/// one another (all-MiniLM-L6-v2 scores "Can I get a refund after 30 days?" against its negation at
/// 0.96), so similarity alone confidently serves wrong answers. Two questions pass only when they agree
/// on everything that flips an answer: negation, every number (digits or words, ordinals too), dates
/// and times, amounts and currencies, units, comparatives and superlatives, named entities, and
/// directional opposites (enable/disable, upload/download, before/after). Anything it cannot read is
/// a reason to refuse: a miss costs one provider call, a wrong hit costs the user a wrong answer.
/// </summary>
public static partial class SemanticGuard
{
    /// <summary>Null when <paramref name="a"/> and <paramref name="b"/> may share an answer; otherwise why not.</summary>
    public static string? Difference(string a, string b)
    {
        var left = Features.Of(a);
        var right = Features.Of(b);
        return !left.Negations.SetEquals(right.Negations) ? "negation"
            : !left.Numbers.SequenceEqual(right.Numbers) ? "number"
            : !left.Temporal.SetEquals(right.Temporal) ? "date"
            : !left.Currencies.SetEquals(right.Currencies) ? "amount"
            : !left.Units.SetEquals(right.Units) ? "unit"
            : !left.Comparatives.SetEquals(right.Comparatives) ? "comparative"
            : !left.Entities.SetEquals(right.Entities) ? "entity"
            : Opposed(left.Words, right.Words) ? "opposite"
            : null;
    }

    private static bool Opposed(HashSet<string> left, HashSet<string> right)
    {
        foreach (var (x, y) in Opposites)
        {
            bool Has(HashSet<string> words, string root) => words.Any(word => IsFormOf(word, root));
            bool lx = Has(left, x), ly = Has(left, y), rx = Has(right, x), ry = Has(right, y);
            if ((lx && !ly && ry && !rx) || (ly && !lx && rx && !ry))
            {
                return true;
            }
        }

        // "possible" and "impossible", "valid" and "invalid", "safe" and "unsafe": one side negates a word of the other.
        return Negates(left, right) || Negates(right, left);

        static bool Negates(HashSet<string> words, HashSet<string> others) =>
            words.Any(word => word.Length > 3 && !others.Contains(word)
                && NegatingPrefixes.Any(prefix => others.Contains(prefix + word) && !words.Contains(prefix + word)));
    }

    /// <summary>"enabled", "enabling", "enables" are forms of "enable"; "one" is not a form of "on".</summary>
    private static bool IsFormOf(string word, string root)
    {
        if (word == root)
        {
            return true;
        }

        var stem = root.Length > 3 && root.EndsWith('e') ? root[..^1] : root;
        if (!word.StartsWith(stem, StringComparison.Ordinal))
        {
            return false;
        }

        var suffix = word[stem.Length..];
        return stem.Length < root.Length
            ? suffix is "es" or "ed" or "ing" or "er" or "ers"
            : suffix is "s" or "es" or "ed" or "ing" or "er" or "ers"
              || (suffix.Length >= 3 && suffix[0] == stem[^1] && suffix[1..] is "ed" or "ing" or "er"); // stopped, logging
    }

    private sealed record Features(
        HashSet<string> Negations, List<string> Numbers, HashSet<string> Temporal, HashSet<string> Currencies,
        HashSet<string> Units, HashSet<string> Comparatives, HashSet<string> Entities, HashSet<string> Words)
    {
        public static Features Of(string text)
        {
            var features = new Features([], [], [], [], [], [], [], []);
            var tokens = TokenPattern().Matches(text.Normalize(System.Text.NormalizationForm.FormKC).Replace('\u2019', '\''))
                .Select(match => match.Value).ToList();
            double? pendingNumber = null;
            for (var i = 0; i < tokens.Count; i++)
            {
                var original = tokens[i];
                var token = original.ToLowerInvariant();
                if (NumberWord(token) is { } wordValue)
                {
                    // "twenty five" and "two hundred" read as one number, as 25 and 200 do.
                    pendingNumber = pendingNumber is { } sofar
                        ? wordValue is 100 or 1000 or 1_000_000 or 1_000_000_000 ? sofar * wordValue : sofar + wordValue
                        : wordValue;
                    continue;
                }

                Flush(features, ref pendingNumber);
                if (DigitsPattern().Match(token) is { Success: true } digits)
                {
                    var value = double.Parse(digits.Groups["n"].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
                    var scale = digits.Groups["s"].Value switch { "k" => 1e3, "m" or "mm" => 1e6, "bn" or "b" => 1e9, _ => 1d };
                    features.Numbers.Add((value * scale).ToString("R", CultureInfo.InvariantCulture));
                    if (UnitWords.TryGetValue(digits.Groups["u"].Value, out var attachedUnit))
                    {
                        features.Units.Add(attachedUnit);
                    }
                    else if (digits.Groups["u"].Value.Length > 0)
                    {
                        // 14A, 3rd, 5G: a name or an ordinal, compared whole.
                        features.Entities.Add(token);
                    }

                    continue;
                }

                features.Words.Add(token);
                if (token.EndsWith("n't", StringComparison.Ordinal) || NegationWords.ContainsKey(token))
                {
                    features.Negations.Add(NegationWords.GetValueOrDefault(token, "not"));
                }

                if (TemporalWords.Contains(token))
                {
                    features.Temporal.Add(token);
                }

                if (CurrencyWords.TryGetValue(token, out var currency))
                {
                    features.Currencies.Add(currency);
                }

                if (UnitWords.TryGetValue(token, out var unit))
                {
                    features.Units.Add(unit);
                }

                // "the best way to" asks how, not for a ranking.
                if (ComparativeWords.Contains(token) && !(token == "best" && i + 1 < tokens.Count && tokens[i + 1].Equals("way", StringComparison.OrdinalIgnoreCase)))
                {
                    features.Comparatives.Add(token);
                }

                if (IsEntity(original, i == 0 || tokens[i - 1] is "." or "?" or "!"))
                {
                    features.Entities.Add(token);
                }
            }

            Flush(features, ref pendingNumber);
            features.Numbers.Sort(StringComparer.Ordinal);
            return features;
        }

        private static void Flush(Features features, ref double? pending)
        {
            if (pending is { } value)
            {
                features.Numbers.Add(value.ToString("R", CultureInfo.InvariantCulture));
                pending = null;
            }
        }
    }

    /// <summary>Capitalised inside a sentence, all capitals, or letters mixed with digits or inner capitals: a name.</summary>
    private static bool IsEntity(string token, bool startsSentence)
    {
        if (token.Length < 2 || !char.IsLetter(token[0]) || token.Contains('\''))
        {
            return false;
        }

        var inner = token.Skip(1).Any(char.IsUpper);
        var digits = token.Any(char.IsDigit);
        var allCaps = token.All(c => !char.IsLetter(c) || char.IsUpper(c));
        return inner || digits || allCaps || (!startsSentence && char.IsUpper(token[0]));
    }

    private static double? NumberWord(string token) => token switch
    {
        "zero" or "none" => null,
        "one" => 1, "two" or "second" or "twice" or "double" or "couple" => 2, "three" or "third" or "triple" => 3,
        "four" or "fourth" or "quarter" => 4, "five" or "fifth" => 5, "six" or "sixth" => 6, "seven" or "seventh" => 7,
        "eight" or "eighth" => 8, "nine" or "ninth" => 9, "ten" or "tenth" => 10, "eleven" => 11, "twelve" or "dozen" => 12,
        "thirteen" => 13, "fourteen" => 14, "fifteen" => 15, "sixteen" => 16, "seventeen" => 17, "eighteen" => 18,
        "nineteen" => 19, "twenty" => 20, "thirty" => 30, "forty" => 40, "fifty" => 50, "sixty" => 60, "seventy" => 70,
        "eighty" => 80, "ninety" => 90, "hundred" => 100, "thousand" => 1000, "million" => 1_000_000, "billion" => 1_000_000_000,
        "half" => 0.5, "first" or "once" or "single" => 1,
        _ => null,
    };

    // Words, numbers with separators and a unit or scale stuck to them (10kg, 5k, $20, 3.5%), and symbols.
    [GeneratedRegex(@"[$€£¥%]|\d[\d,]*(?:\.\d+)?[a-zA-Z%]*|[\p{L}][\p{L}\p{N}'\-]*|[.?!]")]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"^(?<n>\d[\d,]*(?:\.\d+)?)(?:(?<s>k|m|mm|bn|b)|(?<u>[a-z%]+))?$")]
    private static partial Regex DigitsPattern();

    private static readonly string[] NegatingPrefixes = ["un", "in", "im", "ir", "il", "dis", "non", "non-"];

    private static readonly Dictionary<string, string> NegationWords = new(StringComparer.Ordinal)
    {
        ["not"] = "not", ["no"] = "no", ["never"] = "never", ["cannot"] = "not", ["cant"] = "not", ["dont"] = "not",
        ["doesnt"] = "not", ["didnt"] = "not", ["isnt"] = "not", ["arent"] = "not", ["wont"] = "not", ["shouldnt"] = "not",
        ["without"] = "without", ["none"] = "none", ["nothing"] = "nothing", ["nobody"] = "nobody", ["nowhere"] = "nowhere",
        ["neither"] = "neither", ["nor"] = "nor", ["unless"] = "unless", ["except"] = "except", ["excluding"] = "except",
    };

    private static readonly HashSet<string> TemporalWords = new(StringComparer.Ordinal)
    {
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "weekend", "weekday",
        "today", "tomorrow", "yesterday", "tonight", "morning", "afternoon", "evening", "night", "midnight", "noon",
        "daily", "weekly", "monthly", "yearly", "annual", "annually", "quarterly", "hourly",
        "next", "last", "previous", "past", "ago", "upcoming", "current", "currently", "now", "recent", "recently", "future",
        "spring", "summer", "autumn", "fall", "winter", "christmas", "easter", "holiday",
    };

    private static readonly Dictionary<string, string> CurrencyWords = new(StringComparer.Ordinal)
    {
        ["$"] = "usd", ["usd"] = "usd", ["dollar"] = "usd", ["dollars"] = "usd", ["€"] = "eur", ["eur"] = "eur", ["euro"] = "eur",
        ["euros"] = "eur", ["£"] = "gbp", ["gbp"] = "gbp", ["pound"] = "gbp", ["pounds"] = "gbp", ["¥"] = "jpy", ["yen"] = "jpy",
        ["jpy"] = "jpy", ["cent"] = "cent", ["cents"] = "cent", ["btc"] = "btc", ["bitcoin"] = "btc", ["rupee"] = "inr",
        ["rupees"] = "inr", ["inr"] = "inr", ["chf"] = "chf", ["franc"] = "chf", ["francs"] = "chf", ["cad"] = "cad", ["aud"] = "aud",
    };

    private static readonly Dictionary<string, string> UnitWords = new(StringComparer.Ordinal)
    {
        ["km"] = "km", ["kilometer"] = "km", ["kilometers"] = "km", ["kilometre"] = "km", ["kilometres"] = "km",
        ["mile"] = "mile", ["miles"] = "mile", ["mi"] = "mile", ["meter"] = "m", ["meters"] = "m", ["metre"] = "m", ["metres"] = "m",
        ["cm"] = "cm", ["centimeter"] = "cm", ["centimeters"] = "cm", ["mm"] = "mm", ["millimeter"] = "mm", ["millimeters"] = "mm",
        ["ft"] = "ft", ["foot"] = "ft", ["feet"] = "ft", ["inch"] = "inch", ["inches"] = "inch", ["yard"] = "yard", ["yards"] = "yard",
        ["kg"] = "kg", ["kilogram"] = "kg", ["kilograms"] = "kg", ["kilo"] = "kg", ["kilos"] = "kg", ["g"] = "g", ["gram"] = "g", ["grams"] = "g",
        ["lb"] = "lb", ["lbs"] = "lb", ["ounce"] = "oz", ["ounces"] = "oz", ["oz"] = "oz", ["ton"] = "ton", ["tons"] = "ton", ["tonne"] = "ton",
        ["l"] = "l", ["liter"] = "l", ["liters"] = "l", ["litre"] = "l", ["litres"] = "l", ["ml"] = "ml", ["gallon"] = "gallon", ["gallons"] = "gallon",
        ["kb"] = "kb", ["mb"] = "mb", ["gb"] = "gb", ["tb"] = "tb", ["kilobyte"] = "kb", ["megabyte"] = "mb", ["megabytes"] = "mb",
        ["gigabyte"] = "gb", ["gigabytes"] = "gb", ["terabyte"] = "tb", ["terabytes"] = "tb", ["mbps"] = "mbps", ["gbps"] = "gbps",
        ["hz"] = "hz", ["khz"] = "khz", ["mhz"] = "mhz", ["ghz"] = "ghz", ["w"] = "w", ["watt"] = "w", ["watts"] = "w", ["kw"] = "kw", ["kwh"] = "kwh",
        ["v"] = "v", ["volt"] = "v", ["volts"] = "v", ["celsius"] = "c", ["°c"] = "c", ["fahrenheit"] = "f", ["°f"] = "f", ["kelvin"] = "k",
        ["%"] = "%", ["percent"] = "%", ["percentage"] = "%",
        ["second"] = "sec", ["seconds"] = "sec", ["sec"] = "sec", ["secs"] = "sec", ["s"] = "sec", ["minute"] = "min", ["minutes"] = "min",
        ["mins"] = "min", ["hour"] = "hour", ["hours"] = "hour", ["hr"] = "hour", ["hrs"] = "hour", ["h"] = "hour", ["day"] = "day",
        ["days"] = "day", ["week"] = "week", ["weeks"] = "week", ["month"] = "month", ["months"] = "month", ["year"] = "year",
        ["years"] = "year", ["yr"] = "year", ["yrs"] = "year", ["decade"] = "decade", ["decades"] = "decade",
        ["mph"] = "mph", ["kmh"] = "kmh", ["kph"] = "kmh", ["calorie"] = "kcal", ["calories"] = "kcal", ["kcal"] = "kcal",
        ["token"] = "token", ["tokens"] = "token", ["byte"] = "byte", ["bytes"] = "byte", ["pixel"] = "px", ["pixels"] = "px", ["px"] = "px",
    };

    private static readonly HashSet<string> ComparativeWords = new(StringComparer.Ordinal)
    {
        "more", "less", "most", "least", "fewer", "fewest", "better", "worse", "best", "worst", "cheaper", "cheapest",
        "faster", "fastest", "slower", "slowest", "higher", "highest", "lower", "lowest", "bigger", "biggest", "smaller",
        "smallest", "larger", "largest", "longer", "longest", "shorter", "shortest", "older", "oldest", "newer", "newest",
        "earlier", "earliest", "later", "latest", "greater", "greatest", "safer", "safest", "easier", "easiest", "harder",
        "hardest", "stronger", "strongest", "weaker", "weakest", "heavier", "heaviest", "lighter", "lightest", "warmer",
        "colder", "hotter", "hottest", "coldest", "maximum", "minimum", "max", "min", "above", "below", "over", "under",
        "before", "after", "only", "few", "fewer", "more", "most",
    };

    /// <summary>Opposites: a question with one and its twin with the other ask different things.</summary>
    private static readonly (string, string)[] Opposites =
    [
        ("enable", "disable"), ("activate", "deactivate"), ("add", "remove"), ("include", "exclude"), ("start", "stop"),
        ("open", "close"), ("buy", "sell"), ("import", "export"), ("upload", "download"), ("login", "logout"), ("encrypt", "decrypt"),
        ("lock", "unlock"), ("install", "uninstall"), ("subscribe", "unsubscribe"), ("allow", "block"), ("allow", "deny"),
        ("accept", "reject"), ("accept", "decline"), ("increase", "decrease"), ("upgrade", "downgrade"), ("connect", "disconnect"),
        ("show", "hide"), ("win", "lose"), ("pass", "fail"), ("send", "receive"), ("push", "pull"), ("on", "off"), ("in", "out"),
        ("up", "down"), ("to", "from"), ("credit", "debit"), ("deposit", "withdraw"), ("hire", "fire"), ("create", "delete"),
        ("mute", "unmute"), ("follow", "unfollow"), ("pause", "resume"), ("arrive", "depart"), ("arrival", "departure"),
        ("inbound", "outbound"), ("input", "output"), ("min", "max"), ("minimum", "maximum"), ("male", "female"), ("he", "she"),
        ("his", "her"), ("men", "women"), ("boy", "girl"), ("left", "right"), ("north", "south"), ("east", "west"), ("true", "false"),
        ("yes", "no"), ("success", "failure"), ("profit", "loss"), ("gain", "loss"), ("income", "expense"), ("asset", "liability"),
        ("sign", "unsign"), ("join", "leave"), ("attach", "detach"), ("merge", "split"), ("compress", "decompress"),
        ("encode", "decode"), ("zip", "unzip"), ("pin", "unpin"), ("approve", "reject"), ("public", "private"), ("free", "paid"),
        ("internal", "external"), ("inside", "outside"), ("early", "late"), ("rise", "fall"), ("hot", "cold"), ("wet", "dry"),
        ("borrow", "lend"), ("import", "export"), ("parent", "child"), ("client", "server"), ("read", "write"),
    ];
}
