import sharp from 'sharp';
const D = '/tmp/int8-deb/x/usr/lib/python3/dist-packages/skimage/data/';
const I = '/tmp/int8-deb/x/usr/share/icons/breeze/apps/48/';
const crop = (f: string, left: number, top: number) => sharp(D + f).removeAlpha().extract({ left, top, width: 128, height: 128 }).png();
const info = async (f: string) => { const m = await sharp(f).metadata(); return `${m.width}x${m.height}`; };
console.log(await info(D + 'rocket.jpg'), await info(D + 'motorcycle_left.png'));
await crop('rocket.jpg', 200, 150).toFile('models/calibration/skimage-rocket.png');
await crop('motorcycle_left.png', 300, 250).toFile('models/calibration/skimage-motorcycle.png');
await crop('astronaut.png', 360, 360).toFile('models/calibration/skimage-astronaut-flag.png');
for (const [svg, out] of [['calligrawords.svg', 'breeze-calligrawords.png'], ['accessories-text-editor.svg', 'breeze-text-editor.png']]) {
  await sharp(I + svg, { density: 72 * 128 / 48 }).resize(128, 128).flatten({ background: '#ffffff' }).removeAlpha().png().toFile('models/calibration/' + out);
}
