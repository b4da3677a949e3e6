// node-gtk and the GObject-introspection namespaces the elements use.
import * as gi from 'node-gtk'

export const GObject = gi.require('GObject', '2.0')
export const Gst = gi.require('Gst', '1.0')
export const GstBase = gi.require('GstBase', '1.0')

if (!Gst.isInitialized())
  Gst.init(null)

export { gi }
