using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// Counts tokens with the encoding each model family uses, for context-window checks and admission
/// estimates before a call, and for usage after one when the provider reports none. The encodings
/// are large, so each is loaded once, on first use.
/// </summary>
public sealed class TokenCounter
{
    // OpenAI's chat format adds a few tokens per message for the role and separators, and primes
    // the reply with a few more; the figures are the ones OpenAI documents for its chat models.
    private const int TokensPerMessage = 3;
    private const int TokensPerName = 1;
    private const int ReplyPriming = 3;

    private readonly Lazy<Tokenizer> _o200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private readonly Lazy<Tokenizer> _cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    public static TokenCounter Shared { get; } = new();

    /// <summary>Counts of texts callers send on every turn (see <see cref="RepeatedTextCounts"/>).</summary>
    internal RepeatedTextCounts RepeatedTexts { get; } = new();

    /// <summary>The encoding for <paramref name="model"/>'s family.</summary>
    public TokenEncoding EncodingFor(string provider, string model)
    {
        // Anthropic publishes no tokenizer for its current models; cl100k is the usual stand-in and
        // counts within a few per cent of Claude's own usage figures on English text.
        if (provider == ProviderNames.Anthropic || model.StartsWith("claude", StringComparison.OrdinalIgnoreCase))
        {
            return TokenEncoding.Cl100k;
        }

        return model.StartsWith("gpt-4-", StringComparison.OrdinalIgnoreCase)
            || model.Equals("gpt-4", StringComparison.OrdinalIgnoreCase)
            || model.StartsWith("gpt-3.5", StringComparison.OrdinalIgnoreCase)
            ? TokenEncoding.Cl100k
            : TokenEncoding.O200k;
    }

    /// <summary>
    /// Loads the given encodings now, so that no model call pays for it (a few hundred ms each,
    /// CPU-bound). Only those a configured deployment uses: each holds tens of MiB for good.
    /// </summary>
    public void WarmUp(IEnumerable<TokenEncoding> encodings)
    {
        foreach (var encoding in encodings.Distinct())
        {
            _ = Tokenizer(encoding).CountTokens("warm up");
        }
    }

    /// <summary>
    /// Tokens of <paramref name="text"/>. With a <paramref name="limit"/>, counting stops once the count
    /// passes it: the result is then over the limit but not the full count, which is all a check against
    /// a context window needs, and a huge text costs no more than the limit's worth of counting.
    /// </summary>
    public int CountText(string? text, TokenEncoding encoding, int limit = int.MaxValue) =>
        string.IsNullOrEmpty(text) ? 0 : Count(Tokenizer(encoding), text, limit);

    // Providers bill an image by its size and detail; 1 000 tokens covers a high-detail 1024×1024
    // image at OpenAI's rates, and is what an estimate must not undercount.
    private const int TokensPerImage = 1_000;

    /// <summary>
    /// Prompt tokens of a whole request as the provider will count them, give or take a few: the
    /// messages, and what the options add to the prompt (instructions, tool definitions, a JSON schema).
    /// With a <paramref name="limit"/>, counting stops once the count passes it (see <see cref="CountText"/>).
    /// With a <paramref name="scope"/> (the caller's tenant), the counts of long texts are remembered for
    /// that scope's later requests: the system prompt, tools and conversation so far come on every turn.
    /// </summary>
    public int CountRequest(
        IEnumerable<ChatMessage> messages, ChatOptions? options, TokenEncoding encoding, int limit = int.MaxValue, string? scope = null)
    {
        var counting = new Counting(this, encoding, scope);
        var total = CountPrompt(messages, counting, limit);
        if (options is null || total > limit)
        {
            return total;
        }

        total += options.Instructions is { } instructions ? counting.Count(instructions, Remaining(limit, total)) : 0;
        foreach (var tool in options.Tools ?? [])
        {
            if (total > limit)
            {
                return total;
            }

            total += counting.Count(tool.Name) + counting.Count(tool.Description ?? "", Remaining(limit, total))
                + (tool is AIFunctionDeclaration function ? counting.Count(function.JsonSchema.GetRawText(), Remaining(limit, total)) : 0);
        }

        if (options.ResponseFormat is ChatResponseFormatJson { Schema: { } schema } && total <= limit)
        {
            total += counting.Count(schema.GetRawText(), Remaining(limit, total));
        }

        return total;
    }

    /// <summary>Prompt tokens of <paramref name="messages"/> as the provider will count them, give or take a few; see <see cref="CountRequest"/> for <paramref name="limit"/>.</summary>
    public int CountPrompt(IEnumerable<ChatMessage> messages, TokenEncoding encoding, int limit = int.MaxValue) =>
        CountPrompt(messages, new Counting(this, encoding, scope: null), limit);

    private static int CountPrompt(IEnumerable<ChatMessage> messages, Counting counting, int limit)
    {
        var total = ReplyPriming;
        foreach (var message in messages)
        {
            if (total > limit)
            {
                return total;
            }

            total += TokensPerMessage;
            if (message.AuthorName is { Length: > 0 } name)
            {
                total += TokensPerName + counting.Count(name, Remaining(limit, total));
            }

            foreach (var content in message.Contents)
            {
                if (total > limit)
                {
                    return total;
                }

                total += content switch
                {
                    TextContent text => counting.Count(text.Text, Remaining(limit, total)),
                    FunctionCallContent call => counting.Count(call.Name) + CountArguments(counting, call.Arguments, Remaining(limit, total)),
                    FunctionResultContent result => counting.Count(result.Result?.ToString() ?? "", Remaining(limit, total)),
                    DataContent data when data.HasTopLevelMediaType("image") => TokensPerImage,
                    UriContent uri when uri.HasTopLevelMediaType("image") => TokensPerImage,
                    _ => 0,
                };
            }
        }

        return total;
    }

    private static int CountArguments(Counting counting, IDictionary<string, object?>? arguments, int limit)
    {
        var total = 0;
        if (arguments is null)
        {
            return total;
        }

        foreach (var (name, value) in arguments)
        {
            if (total > limit)
            {
                return total;
            }

            total += counting.Count(name) + counting.Count(value?.ToString() ?? "", Remaining(limit, total));
        }

        return total;
    }

    /// <summary>
    /// The longest run of non-space (or space) characters given to the tokenizer whole. Its byte-pair
    /// encoding is quadratic in the length of one pre-token (a run of letters, digits, punctuation or
    /// spaces with no break): 8 000 letters took 10 ms and 80 000 took 2.6 s, so a long enough run
    /// would hold a core for minutes. Longer runs are counted in pieces of this length: a few hundred
    /// nanoseconds per character at worst, and at most a couple of tokens too many per piece (measured:
    /// exact on prose, +0.5 % on base64, +3 % on digit runs, +12 % on alternating punctuation), which
    /// only ever overestimates.
    /// </summary>
    internal const int MaxRunLength = 64;

    /// <summary>
    /// With a limit, a long text is counted in blocks of about this many characters, so that counting can
    /// stop once the limit is passed. A block ends at a space that follows a letter or a digit: the
    /// encodings' own pre-tokenizing always splits there (no pre-token runs from a word into the space
    /// after it), so the blocks add up to the whole text's count. Not at a newline: punctuation and the
    /// newlines after it are one pre-token.
    /// </summary>
    internal const int BlockLength = 8 * 1024;

    private static int Remaining(int limit, int counted) => limit == int.MaxValue ? int.MaxValue : limit - counted;

    private static int Count(Tokenizer tokenizer, string text, int limit = int.MaxValue)
    {
        var span = text.AsSpan();
        var blocks = limit != int.MaxValue && span.Length > BlockLength;
        int total = 0, start = 0, run = 0;
        var inSpace = false;
        for (var i = 0; i < span.Length; i++)
        {
            var space = char.IsWhiteSpace(span[i]);
            if (space != inSpace)
            {
                (run, inSpace) = (0, space);
                if (blocks && span[i] == ' ' && i - start >= BlockLength && char.IsLetterOrDigit(span[i - 1]))
                {
                    total += tokenizer.CountTokens(span[start..i]);
                    start = i;
                    BackgroundCpuWork.YieldNow();
                    if (total > limit)
                    {
                        return total;
                    }
                }
            }

            // Never between the two halves of a surrogate pair.
            if (++run > MaxRunLength && !char.IsLowSurrogate(span[i]))
            {
                total += tokenizer.CountTokens(span[start..i]);
                (start, run) = (i, 1);
                BackgroundCpuWork.YieldNow();
                if (total > limit)
                {
                    return total;
                }
            }
        }

        return total + tokenizer.CountTokens(span[start..]);
    }

    private Tokenizer Tokenizer(TokenEncoding encoding) => encoding == TokenEncoding.Cl100k ? _cl100k.Value : _o200k.Value;

    /// <summary>One request's counting: its encoding's tokenizer and, with a scope, the counts its caller's texts had before.</summary>
    private readonly struct Counting
    {
        private readonly Tokenizer _tokenizer;
        private readonly TokenEncoding _encoding;
        private readonly RepeatedTextCounts.ScopeCounts? _known;

        public Counting(TokenCounter owner, TokenEncoding encoding, string? scope)
        {
            (_tokenizer, _encoding) = (owner.Tokenizer(encoding), encoding);
            _known = scope is null ? null : owner.RepeatedTexts.For(scope);
        }

        public int Count(string text, int limit = int.MaxValue)
        {
            if (_known is null || text.Length < RepeatedTextCounts.MinimumLength)
            {
                return TokenCounter.Count(_tokenizer, text, limit);
            }

            var key = RepeatedTextCounts.KeyOf(_encoding, text);
            if (_known.TryGet(key, out var tokens))
            {
                // Past the limit, say only that (as counting afresh would stop there): the whole count of a
                // huge text would make admission refuse it as too large rather than over the context window.
                return tokens > limit ? limit + 1 : tokens;
            }

            tokens = TokenCounter.Count(_tokenizer, text, limit);
            if (tokens <= limit)
            {
                // Past the limit, counting may have stopped early: that is not the text's count.
                _known.Add(key, tokens);
            }

            return tokens;
        }
    }
}

public enum TokenEncoding
{
    O200k,
    Cl100k,
}
