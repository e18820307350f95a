// RewardServer module: sandboxed graders over HTTP (Bedrock, OpenRLHF, TRL) and an OpenAI-compatible model endpoint.
