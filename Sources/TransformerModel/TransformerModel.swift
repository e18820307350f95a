// TransformerModel module.
