namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>The token counts a reply reports; provider-neutral, each wire format names them its own way.</summary>
internal readonly record struct TokenUsage(int PromptTokens, int CompletionTokens);
