
:
user
‰PNG	image/png
RIFFxxxxWAVE
	Describe.

model
A cat.
"
user
<image_soft_token> typed