import sharp from 'sharp';
const D = '/tmp/int8-deb/x/usr/lib/python3/dist-packages/skimage/data/';
await sharp(D + 'coffee.png').removeAlpha().extract({ left: 0, top: 270, width: 128, height: 128 }).png().toFile('models/calibration/skimage-coffee-corner.png');
