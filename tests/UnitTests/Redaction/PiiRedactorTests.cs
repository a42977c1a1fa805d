using System.Text;
using AspireLlm.Orchestration.Redaction;

namespace AspireLlm.UnitTests.Redaction;

public sealed class PiiRedactorTests
{
    // Vendor-format samples are split so that secret scanners do not flag this file; they are fake.
    private const string OpenAiKey = "sk-" + "proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
    private const string AnthropicKey = "sk-" + "ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
    private const string OurKey = "sk-" + "llm-0123456789abcdef0123456789abcdef01234567";
    private const string AwsKeyId = "AKIA" + "IOSFODNN7EXAMPLE";
    private const string AwsSessionKeyId = "ASIA" + "ABCDEFGHIJ234567";
    private const string GitHubToken = "ghp" + "_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    private const string GitHubAppToken = "ghs" + "_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    private const string GitHubOAuthToken = "gho" + "_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    private const string GitHubPat = "github" + "_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
    private const string SlackToken = "xox" + "b-0000000000-0000000000-abcdefghijklmnopqrstuvwx";
    private const string SlackUserToken = "xox" + "p-0000000000-0000000000-abcdefghijklmnopqrstuvwx";
    private const string GoogleKey = "AI" + "zaSyA-abcdefghijklmnopqrstuvwxyz01234";
    private const string Jwt = "eyJ" + "hbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Null_and_empty_become_empty(string? text)
    {
        Assert.Equal(string.Empty, PiiRedactor.Redact(text));
        Assert.False(PiiRedactor.ContainsPii(text));
    }

    [Theory]
    [InlineData("contact alice@example.com now", "contact [EMAIL] now")]
    [InlineData("first.last+tag@mail.example.co.uk", "[EMAIL]")]
    [InlineData("<Bob_Smith@EXAMPLE.ORG>", "<[EMAIL]>")]
    [InlineData("mailto:o'brien%x@sub-domain.example.io.", "mailto:[EMAIL].")]
    [InlineData("a@b.de, c@d.fr", "[EMAIL], [EMAIL]")]
    public void Emails_are_redacted(string input, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(input));

    [Theory]
    [InlineData("+44 20 7946 0958", "[PHONE]")]
    [InlineData("call +1-202-555-0143 today", "call [PHONE] today")]
    [InlineData("+33 1 23 45 67 89", "[PHONE]")]
    [InlineData("+1 (202) 555-0143", "[PHONE]")]
    [InlineData("+44 (0)20 7946 0958", "[PHONE]")]
    [InlineData("+49 30 12345678", "[PHONE]")]
    [InlineData("tel:+12025550143", "tel:[PHONE]")]
    [InlineData("0044 20 7946 0958", "[PHONE]")]
    [InlineData("(202) 555-0143", "[PHONE]")]
    [InlineData("(202)555-0143", "[PHONE]")]
    [InlineData("202-555-0143", "[PHONE]")]
    [InlineData("202.555.0143", "[PHONE]")]
    [InlineData("020 7946 0958", "[PHONE]")]
    [InlineData("07700 900123", "[PHONE]")]
    [InlineData("01 23 45 67 89", "[PHONE]")]
    [InlineData("phone: 202-555-0143.", "phone: [PHONE].")]
    public void Phone_numbers_are_redacted(string input, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(input));

    [Theory]
    [InlineData("4111 1111 1111 1111", "[CARD]")]
    [InlineData("4111-1111-1111-1111", "[CARD]")]
    [InlineData("card 4111111111111111 exp 12/27", "card [CARD] exp 12/27")]
    [InlineData("5500 0000 0000 0004", "[CARD]")]
    [InlineData("5555555555554444", "[CARD]")]
    [InlineData("3782 822463 10005", "[CARD]")]
    [InlineData("3056 930902 5904", "[CARD]")]
    [InlineData("6011111111111117", "[CARD]")]
    [InlineData("4222222222222", "[CARD]")]
    [InlineData("4111 1111 1111 1111 123", "[CARD] 123")]
    [InlineData("order 12 4111 1111 1111 1111", "order 12 [CARD]")]
    [InlineData("4111111111111111, 5555555555554444", "[CARD], [CARD]")]
    public void Luhn_valid_cards_are_redacted(string input, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(input));

    [Theory]
    [InlineData("4111 1111 1111 1112")]
    [InlineData("4111111111111112")]
    [InlineData("1234567890123456")]
    [InlineData("epoch 1732579200000 ms")]
    [InlineData("4111 11 1111 1111 1111")]
    [InlineData("4111 1111-1111 1111")]
    [InlineData("4111111111111111.25")]
    [InlineData("0.4111111111111111")]
    [InlineData("x4111111111111111")]
    [InlineData("41111111111111111111111")]
    public void Luhn_invalid_or_malformed_cards_are_left_alone(string input) =>
        Assert.Same(input, PiiRedactor.Redact(input));

    [Theory]
    [InlineData("GB82 WEST 1234 5698 7654 32", "[IBAN]")]
    [InlineData("pay to DE89370400440532013000 today", "pay to [IBAN] today")]
    [InlineData("GB82WEST12345698765432", "[IBAN]")]
    [InlineData("FR14 2004 1010 0505 0001 3M02 606", "[IBAN]")]
    [InlineData("NL91ABNA0417164300", "[IBAN]")]
    [InlineData("NO93 8601 1117 947", "[IBAN]")]
    [InlineData("CH93 0076 2011 6238 5295 7.", "[IBAN].")]
    [InlineData("IBAN: BE68 5390 0754 7034 THANKS", "IBAN: [IBAN] THANKS")]
    [InlineData("DE89 3704 0044 0532 0130 00", "[IBAN]")]
    public void Mod97_valid_ibans_are_redacted(string input, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(input));

    [Theory]
    [InlineData("GB82 WEST 1234 5698 7654 33")]
    [InlineData("DE89370400440532013001")]
    [InlineData("GB00WEST12345698765432")]
    [InlineData("AB12CDEF")]
    [InlineData("ISO9001 and ISO27001")]
    public void Mod97_invalid_ibans_are_left_alone(string input) =>
        Assert.Same(input, PiiRedactor.Redact(input));

    [Theory]
    [InlineData("from 10.0.0.1", "from [IP]")]
    [InlineData("192.168.1.254:8080", "[IP]:8080")]
    [InlineData("255.255.255.255 and 0.0.0.0", "[IP] and [IP]")]
    [InlineData("10.0.0.1,10.0.0.2", "[IP],[IP]")]
    [InlineData("net 172.16.0.0/12.", "net [IP]/12.")]
    [InlineData("2001:db8::1", "[IP]")]
    [InlineData("::1", "[IP]")]
    [InlineData("fe80::1ff:fe23:4567:890a", "[IP]")]
    [InlineData("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "[IP]")]
    [InlineData("[::1]:443", "[[IP]]:443")]
    [InlineData("::ffff:192.168.0.1", "[IP]")]
    [InlineData("peer 2001:DB8:0:0:8:800:200C:417A.", "peer [IP].")]
    public void Ip_addresses_are_redacted(string input, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(input));

    [Theory]
    [InlineData("version 1.2.3.4.5")]
    [InlineData("v1.2.3.4")]
    [InlineData("256.1.1.1")]
    [InlineData("999.10.10.10")]
    [InlineData("1.2.3")]
    [InlineData("01.02.03.04")]
    [InlineData("at 12:30")]
    [InlineData("at 10:45:00")]
    [InlineData("2026-11-26T10:45:00.123Z")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("2001:db8::1::2")]
    [InlineData("a :: b")]
    [InlineData("std::vector<int>")]
    public void Things_that_merely_look_like_addresses_are_left_alone(string input) =>
        Assert.Same(input, PiiRedactor.Redact(input));

    [Theory]
    [InlineData(OpenAiKey)]
    [InlineData(AnthropicKey)]
    [InlineData(OurKey)]
    [InlineData(AwsKeyId)]
    [InlineData(AwsSessionKeyId)]
    [InlineData(GitHubToken)]
    [InlineData(GitHubAppToken)]
    [InlineData(GitHubOAuthToken)]
    [InlineData(GitHubPat)]
    [InlineData(SlackToken)]
    [InlineData(SlackUserToken)]
    [InlineData(GoogleKey)]
    [InlineData(Jwt)]
    public void Vendor_tokens_are_redacted(string token)
    {
        Assert.Equal("[SECRET]", PiiRedactor.Redact(token));
        Assert.Equal("key=\"[SECRET]\" used", PiiRedactor.Redact($"key=\"{token}\" used"));
        Assert.True(PiiRedactor.ContainsPii(token));
    }

    [Theory]
    [InlineData("Authorization: Bearer abc123def456ghi789", "Authorization: Bearer [SECRET]")]
    [InlineData("authorization: bearer " + OurKey, "authorization: bearer [SECRET]")]
    [InlineData("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [SECRET]")]
    [InlineData("Bearer " + Jwt + " expired", "Bearer [SECRET] expired")]
    [InlineData("?user=bob&password=hunter2&page=2", "?user=bob&password=[SECRET]&page=2")]
    [InlineData("GET /v1?api_key=abc123", "GET /v1?api_key=[SECRET]")]
    [InlineData("DB_PASSWORD: s3cr3t!", "DB_PASSWORD: [SECRET]")]
    [InlineData("Server=db;User Id=sa;Password=P@ssw0rd!;", "Server=db;User Id=sa;Password=[SECRET];")]
    [InlineData("password: 'two words'", "password: '[SECRET]'")]
    [InlineData("Server=db;Pwd=P@ss;Timeout=5", "Server=db;Pwd=[SECRET];Timeout=5")]
    [InlineData("""{"client_secret": "two words", "x": 1}""", """{"client_secret": "[SECRET]", "x": 1}""")]
    [InlineData("apiKey = 'xyz'", "apiKey = '[SECRET]'")]
    [InlineData("--access-token=abc", "--access-token=[SECRET]")]
    [InlineData("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key=[SECRET]")]
    [InlineData("token: \"truncated", "token: \"[SECRET]")]
    [InlineData("secret=" + OpenAiKey + "&n=1", "secret=[SECRET]&n=1")]
    public void Credential_values_are_redacted_but_their_names_kept(string input, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(input));

    [Theory]
    [InlineData("he was the bearer of bad news")]
    [InlineData("Basic authentication is disabled")]
    [InlineData("use a Bearer token")]
    [InlineData("max_tokens=100, prompt_tokens: 12")]
    [InlineData("password_hint=pet")]
    [InlineData("password=")]
    [InlineData("the token is valid")]
    [InlineData("key sk-llm-0123456 (public prefix)")]
    [InlineData("task-abcdefghijklmnopqrstuvwxyz")]
    [InlineData("AKIA1234")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9 alone")]
    public void Credential_look_alikes_are_left_alone(string input) =>
        Assert.Same(input, PiiRedactor.Redact(input));

    [Theory]
    [InlineData("plain prose with nothing sensitive in it")]
    [InlineData("in 2026 we shipped 3 releases")]
    [InlineData("total 1,234.56 EUR, or 1 234 567,89")]
    [InlineData("due 2026-11-26 at 10:45:00, or 26/11/2026 12:30")]
    [InlineData("26.11.2026 and 11-26-2026")]
    [InlineData("release 10.0.19041.1 and 1.2.3.4.5")]
    [InlineData("id 550e8400-e29b-41d4-a716-446655440000")]
    [InlineData("id 12345678-1234-5678-1234-567812345678")]
    [InlineData("ticket #12345, order 987654, pin 4242")]
    [InlineData("range 100-2000 tokens, 200 400 800")]
    [InlineData("sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    [InlineData("took 123456789 ns")]
    [InlineData("user@localhost and @handle and v@1.2.3")]
    [InlineData("score 0.41111111111111111")]
    [InlineData("ISBN 978-3-16-148410-0")]
    [InlineData("[EMAIL] [PHONE] [CARD] [IBAN] [IP] [SECRET] password=[SECRET]")]
    public void Text_without_findings_is_returned_as_the_same_instance(string input)
    {
        Assert.Same(input, PiiRedactor.Redact(input));
        Assert.False(PiiRedactor.ContainsPii(input));
    }

    [Theory]
    [InlineData("2026")]
    [InlineData("1,234.56")]
    [InlineData("2026-11-26")]
    [InlineData("12:30")]
    [InlineData("10:45:00")]
    [InlineData("v1.2.3")]
    [InlineData("#12345")]
    [InlineData("2026-11-26 10:45")]
    [InlineData("2020-2026")]
    [InlineData("$1,234,567.89")]
    [InlineData("+1 2026")]
    [InlineData("+15 ms")]
    [InlineData("1.202.555.0143")]
    [InlineData("202-555-0143-99")]
    [InlineData("550e8400-e29b-41d4-a716-202555014300")]
    public void Ordinary_numbers_are_not_phone_numbers(string input) =>
        Assert.Same(input, PiiRedactor.Redact(input));

    [Theory]
    [InlineData("write to alice@example.com", true)]
    [InlineData("ring +44 20 7946 0958", true)]
    [InlineData("card 4111 1111 1111 1111", true)]
    [InlineData("card 4111 1111 1111 1112", false)]
    [InlineData("iban DE89370400440532013000", true)]
    [InlineData("iban DE89370400440532013001", false)]
    [InlineData("host 10.0.0.1", true)]
    [InlineData("host 2001:db8::1", true)]
    [InlineData("?api_key=abc123", true)]
    [InlineData("at 10:45:00 on 2026-11-26, v1.2.3.4.5", false)]
    public void ContainsPii_agrees_with_Redact(string input, bool expected)
    {
        Assert.Equal(expected, PiiRedactor.ContainsPii(input));
        Assert.Equal(expected, !ReferenceEquals(input, PiiRedactor.Redact(input)));
    }

    [Fact]
    public void Mixed_text_redacts_each_kind_in_place()
    {
        var input =
            $"User alice@example.com (+44 20 7946 0958) paid with 4111 1111 1111 1111 to GB82 WEST 1234 5698 7654 32 " +
            $"from 203.0.113.7 / 2001:db8::7 using Bearer {OurKey}; retry at 10:45:00 on 2026-11-26, v1.2.3, " +
            $"total 1,234.56, trace 550e8400-e29b-41d4-a716-446655440000, callback?token=abc123&n=2";

        var expected =
            "User [EMAIL] ([PHONE]) paid with [CARD] to [IBAN] " +
            "from [IP] / [IP] using Bearer [SECRET]; retry at 10:45:00 on 2026-11-26, v1.2.3, " +
            "total 1,234.56, trace 550e8400-e29b-41d4-a716-446655440000, callback?token=[SECRET]&n=2";

        Assert.Equal(expected, PiiRedactor.Redact(input));
        Assert.True(PiiRedactor.ContainsPii(input));
    }

    [Theory]
    [InlineData("IBAN GB29NWBK60161331926819", "IBAN [IBAN]")]
    [InlineData("IBAN GB29 NWBK 6016 1331 9268 19", "IBAN [IBAN]")]
    [InlineData("DE89 3704 0044 0532 0130 00 and 020 7946 0958", "[IBAN] and [PHONE]")]
    [InlineData("card 4111 1111 1111 1111 phone 202 555 0143", "card [CARD] phone [PHONE]")]
    [InlineData("+4111111111111111", "+[CARD]")]
    [InlineData("+44 20 7946 0958 4111 1111 1111 1111", "[PHONE] [CARD]")]
    [InlineData("+44 20 7946 0958 2026 2027", "[PHONE] 2026 2027")]
    [InlineData("password: +44 20 7946 0958", "password: [SECRET]")]
    [InlineData("mail 202-555-0143@example.com", "mail [EMAIL]")]
    public void Overlapping_candidates_resolve_to_the_stronger_kind_without_leaving_fragments(string input, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(input));

    public static TheoryData<string> Samples()
    {
        var data = new TheoryData<string>
        {
            "alice@example.com +44 20 7946 0958 4111 1111 1111 1111",
            "GB82 WEST 1234 5698 7654 32, 10.0.0.1, ::1, fe80::1ff:fe23:4567:890a",
            "Authorization: Bearer abc123def456ghi789",
            "?password=hunter2&api_key=" + OpenAiKey,
            """{"client_secret": "two words", "token": "abc"}""",
            "password: +44 20 7946 0958 then 202-555-0143",
            "Server=db;Password=P@ss;",
            "+44 20 7946 0958x and 4111 1111 1111 1111 123",
            "[::1]:443 and 192.168.0.1:80",
            Jwt + " " + AwsKeyId + " " + SlackToken,
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Redaction_is_idempotent(string input)
    {
        var once = PiiRedactor.Redact(input);

        Assert.NotEqual(input, once);
        Assert.Same(once, PiiRedactor.Redact(once));
        Assert.False(PiiRedactor.ContainsPii(once));
    }

    public static TheoryData<string> HostileInputs()
    {
        const int size = 100_000;
        return new TheoryData<string>
        {
            new string('a', size) + "@",
            Repeat("a.", size) + "@",
            "x@" + Repeat("a.", size),
            Repeat("1 ", size),
            Repeat("1-", size),
            Repeat("+1 ", size),
            Repeat("+1111111111111111111111111111111111x ", size),
            Repeat("(20) 1", size),
            Repeat("1.", size),
            Repeat("1:", size),
            Repeat("::", size),
            Repeat("a1:", size),
            "eyJ" + new string('a', size),
            Repeat("eyJa.", size),
            "sk-" + new string('-', size) + "!",
            Repeat("password=", size),
            "password=\"" + new string('x', size),
            Repeat("a_", size) + "password",
            Repeat("Bearer ", size),
            Repeat("AB12 ", size),
            "AB12" + Repeat("AAAA", size),
            Repeat("4111 ", size),
            Repeat("4111111111111111 ", size),
            Repeat("0123 4567 ", size),
            Repeat("%+.-", size),
        };
    }

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public void Hostile_input_is_scanned_to_the_end_without_timing_out(string input)
    {
        var redacted = PiiRedactor.Redact(input);

        Assert.NotNull(redacted);
        Assert.NotEqual(PiiRedactor.Unscannable, redacted);
        _ = PiiRedactor.ContainsPii(input);
    }

    private static string Repeat(string unit, int size)
    {
        var builder = new StringBuilder(size + unit.Length);
        while (builder.Length < size)
        {
            builder.Append(unit);
        }

        return builder.ToString();
    }
}
